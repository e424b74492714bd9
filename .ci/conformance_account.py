#!/usr/bin/env python3
"""Makes a citizen's account on a fresh development server through the API
itself and prints a bearer token of it, for the conformance run.

    conformance_account.py BASE_URL DATA_DIR PHONE [--flows]

With --flows it prints shell assignments instead: the token, and the ids of
a registration, a recovery, a contact change and a second factor's
enrolment left open, so that the operations under those paths are tried
against live rows rather than only answering 404.

The SMS code is read from the development mailbox (DATA_DIR/outbox.jsonl),
as a person would read it off their phone. Standard library only: it runs
before the virtualenv exists on a bare machine.
"""
import json
import pathlib
import re
import sys
import time
import urllib.request

base, data_dir, phone = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
PASSWORD = "Conformance-run-2026"


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def code_for(phone_digits):
    deadline = time.time() + 30
    while time.time() < deadline:
        mailbox = data_dir / "outbox.jsonl"
        if mailbox.exists():
            for line in reversed(mailbox.read_text().splitlines()):
                entry = json.loads(line)
                if entry["channel"] == "sms" and phone_digits in re.sub(r"\D", "", entry["to"]):
                    found = re.search(r"\b(\d{6})\b", entry["body"])
                    if found:
                        return found.group(1)
        time.sleep(0.2)
    sys.exit(f"no SMS code for {phone} in {data_dir}/outbox.jsonl")


started = call("POST", "/api/v1/registrations", {
    "surname": "Проверочная",
    "given_name": "Анна",
    "phone": phone,
    "accept_terms": True,
})
rid = started["registration_id"]
confirmed = call("POST", f"/api/v1/registrations/{rid}/confirm",
                 {"code": code_for(re.sub(r"\D", "", phone)[-10:])})
call("POST", f"/api/v1/registrations/{rid}/password", {
    "continuation_token": confirmed["continuation_token"],
    "password": PASSWORD,
    "password_confirmation": PASSWORD,
})
session = call("POST", "/api/v1/sessions", {"login": phone, "password": PASSWORD})
token = session["session_token"]
if "--flows" not in sys.argv:
    print(token)
    sys.exit(0)

digits = re.sub(r"\D", "", phone)
registration = call("POST", "/api/v1/registrations", {
    "surname": "Проверочный", "given_name": "Пётр",
    "email": f"registration{digits}@example.org", "accept_terms": True,
})
recovery = call("POST", "/api/v1/recovery", {"login": phone})
change = call("POST", "/api/v1/me/contacts",
              {"email": f"change{digits}@example.org", "password": PASSWORD}, token)
enrolment = call("POST", "/api/v1/me/second-factor",
                 {"method": "totp", "password": PASSWORD}, token)
print(f"CONFORMANCE_TOKEN={token}")
print(f"CONFORMANCE_REGISTRATION_ID={registration['registration_id']}")
print(f"CONFORMANCE_RECOVERY_ID={recovery['recovery_id']}")
print(f"CONFORMANCE_CHANGE_ID={change['change_id']}")
print(f"CONFORMANCE_ENROLMENT_ID={enrolment['enrolment_id']}")
