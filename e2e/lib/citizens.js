// The citizens the simulated registries know during a run: one per journey
// (a SNILS verified in one account cannot be verified in another), written
// to a file for `uslugi serve --sim-citizens`.
import fs from 'node:fs';
import path from 'node:path';

/** The SNILS check number, as uslugi_domain::snils::check_number_for. */
function checkNumber(nine) {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (9 - i);
  if (sum < 100) return sum;
  if (sum === 100 || sum === 101) return 0;
  const rest = sum % 101;
  return rest === 100 ? 0 : rest;
}

function snils(n) {
  const nine = String(200000000 + n).padStart(9, '0');
  const check = String(checkNumber(nine)).padStart(2, '0');
  return `${nine.slice(0, 3)}-${nine.slice(3, 6)}-${nine.slice(6, 9)} ${check}`;
}

/** The person of journey `seq`, as they type their data. */
export function citizen(seq) {
  return {
    surname: 'Кузнецова',
    givenName: 'Ольга',
    patronymic: 'Петровна',
    sex: 'female',
    birthDate: '12.03.1985',
    birthPlace: 'гор. Калуга',
    snils: snils(seq),
    /** A well-formed SNILS that no registry knows. */
    unknownSnils: snils(5000 + seq),
    passport: `4600 ${String(300000 + seq).padStart(6, '0')}`,
    issueDate: '20.03.2005',
    issuedBy: 'Отделом УФМС России по Калужской обл.',
    departmentCode: '400-001',
  };
}

/**
 * Where the Interior Ministry has every journey's citizen registered: the
 * only address a letter with a code goes to.
 */
export const REGISTERED_ADDRESS = {
  postal_code: '248017',
  region: 'Калужская обл.',
  locality: 'г. Калуга',
  street: 'ул. Хрустальная',
  house: '12',
  building: '2',
  flat: '34',
};

/** The registered address as the portal shows it (region and locality in clear). */
export const REGISTERED_ADDRESS_MASKED = 'Калужская обл., г. Калуга, ул. Х***, д. ***, корп. ***, кв. ***';

/** Writes the records of `count` journeys' citizens; returns the file's path. */
export function writeCitizens(dir, count) {
  const records = [];
  for (let seq = 1; seq <= count; seq++) {
    const c = citizen(seq);
    records.push({
      snils: c.snils,
      surname: c.surname,
      given_name: c.givenName,
      patronymic: c.patronymic,
      sex: c.sex,
      birth_date: '1985-03-12',
      passport: { series_number: c.passport, issue_date: '2005-03-20', department_code: c.departmentCode, status: 'valid' },
      registration_address: REGISTERED_ADDRESS,
    });
  }
  const file = path.join(dir, 'citizens.json');
  fs.writeFileSync(file, JSON.stringify(records, null, 1));
  return file;
}
