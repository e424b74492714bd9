//! Every text of the interface, in Russian and English. One struct per
//! language, so a missing translation is a compile error, not a blank.
use uslugi_app::Lang;
use uslugi_domain::{EmailError, NameError, PasswordProblem, PasswordStrength, PhoneError};

pub struct Tr {
    pub lang: &'static str,
    /// Personal data, addresses and the check page.
    pub pd: &'static crate::i18n_personal::PdTr,
    /// The service centers page.
    pub centers: &'static crate::i18n_centers::CentersTr,
    /// Identity confirmation by letter.
    pub letter: &'static crate::i18n_letter::LetterTr,
    /// The operator console.
    pub console: &'static crate::i18n_operator::ConsoleTr,
    /// The citizen's password page.
    pub account: &'static crate::i18n_operator::AccountTr,
    /// «Не удаётся войти?».
    pub recovery: &'static crate::i18n_recovery::RecoveryTr,
    /// «Вход с подтверждением».
    pub factor: &'static crate::i18n_factor::FactorTr,
    /// A change of phone or e-mail.
    pub contacts: &'static crate::i18n_contacts::ContactsTr,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub brand: &'static str,
    pub tagline: &'static str,
    pub skip_link: &'static str,
    pub nav_login: &'static str,
    pub nav_register: &'static str,
    pub nav_me: &'static str,
    pub nav_logout: &'static str,
    pub nav_services: &'static str,
    pub terms: &'static str,
    pub privacy: &'static str,
    pub support: &'static str,
    pub errors_heading: &'static str,

    pub home_title: &'static str,
    pub home_intro: &'static str,
    pub home_levels: &'static str,

    pub register_title: &'static str,
    pub surname: &'static str,
    pub given_name: &'static str,
    pub phone: &'static str,
    pub phone_hint: &'static str,
    pub email: &'static str,
    pub email_hint: &'static str,
    pub no_phone: &'static str,
    pub use_phone: &'static str,
    pub consent_before: &'static str,
    pub consent_and: &'static str,
    pub terms_of_use_link: &'static str,
    pub privacy_policy_link: &'static str,
    pub register_button: &'static str,
    pub already_registered: &'static str,
    pub log_in: &'static str,
    pub organisation_note: &'static str,
    pub phone_use_note: &'static str,

    pub confirm_phone_title: &'static str,
    pub confirm_email_title: &'static str,
    pub change_data: &'static str,
    pub code_sent: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub continue_button: &'static str,
    pub code_valid_until: &'static str,
    pub code_valid_seconds: Plural,
    pub code_expired: &'static str,
    pub resend_code: &'static str,
    pub resend_email: &'static str,
    pub resend_after: &'static str,
    pub resend_letter_after: &'static str,
    pub new_code_sent: &'static str,
    pub new_letter_sent: &'static str,
    pub email_sent: &'static str,
    pub email_spam_hint: &'static str,

    pub password_title: &'static str,
    pub password_heading: &'static str,
    pub password_intro: &'static str,
    pub password: &'static str,
    pub password_confirmation: &'static str,
    pub password_rules: &'static str,
    pub strength_label: &'static str,
    pub strength_weak: &'static str,
    pub strength_medium: &'static str,
    pub strength_strong: &'static str,
    pub save: &'static str,

    pub done_title: &'static str,
    pub done_text: &'static str,
    pub done_login_note: &'static str,
    pub go_services: &'static str,
    pub login_and_fill: &'static str,

    pub login_title: &'static str,
    pub login_required: &'static str,
    pub login_label: &'static str,
    pub login_hint: &'static str,
    pub remember_me: &'static str,
    pub login_button: &'static str,
    pub bad_credentials: &'static str,
    pub no_account: &'static str,
    pub logged_out: &'static str,

    pub me_title: &'static str,
    pub me_general: &'static str,
    pub me_name: &'static str,
    pub me_contacts: &'static str,
    pub me_not_given: &'static str,
    pub me_level: &'static str,
    pub level_simplified: &'static str,
    pub level_standard: &'static str,
    pub level_confirmed: &'static str,
    pub me_next_levels: &'static str,
    pub me_standard_opens: &'static str,
    pub me_confirmed_opens: &'static str,
    pub me_how_standard: &'static str,
    pub me_how_confirmed: &'static str,
    pub current_level: &'static str,

    pub services_title: &'static str,
    pub services_intro: &'static str,
    pub services_needs: &'static str,
    pub services_available: &'static str,
    pub services_unavailable: &'static str,

    pub link_invalid_title: &'static str,
    /// The page an e-mail link opens: it confirms only with the button.
    pub link_confirm_title: &'static str,
    pub link_confirm_registration: &'static str,
    pub link_confirm_recovery: &'static str,
    pub link_confirm_contact: &'static str,
    pub link_confirm_button: &'static str,
    pub link_confirm_not_you: &'static str,
    /// The password step came without the continuation of whoever
    /// confirmed (another browser, or someone who only started the flow).
    pub err_continuation: &'static str,
    pub link_invalid: &'static str,
    pub link_expired: &'static str,
    pub register_again: &'static str,

    pub error_title: &'static str,
    pub not_found: &'static str,
    pub forbidden_csrf: &'static str,
    pub internal: &'static str,
    pub unavailable: &'static str,
    pub too_many: &'static str,
    pub bad_request: &'static str,
    pub too_large: &'static str,
    pub back_home: &'static str,
    pub registration_gone: &'static str,

    pub err_required: &'static str,
    pub err_name_too_long: &'static str,
    pub err_name_characters: &'static str,
    pub err_name_mixed: &'static str,
    pub err_name_separator: &'static str,
    pub err_phone_characters: &'static str,
    pub err_phone_length: &'static str,
    pub err_phone_not_mobile: &'static str,
    pub err_phone_not_russian: &'static str,
    pub err_email_missing_at: &'static str,
    pub err_email_local: &'static str,
    pub err_email_domain: &'static str,
    pub err_email_too_long: &'static str,
    pub err_contact_both: &'static str,
    pub err_consent: &'static str,
    pub err_code_format: &'static str,
    pub err_code_wrong: &'static str,
    pub err_code_expired: &'static str,
    pub err_code_exhausted: &'static str,
    pub err_token: &'static str,
    pub err_pw_too_short: &'static str,
    pub err_pw_too_long: &'static str,
    pub err_pw_common: &'static str,
    pub err_pw_phone: &'static str,
    pub err_pw_email: &'static str,
    pub err_pw_name: &'static str,
    pub err_pw_service: &'static str,
    pub err_pw_snils: &'static str,
    pub err_pw_repetitive: &'static str,
    pub err_pw_mismatch: &'static str,
    pub err_not_confirmed: &'static str,
    pub err_account_exists: &'static str,
    pub err_field_type: &'static str,
    pub err_malformed_json: &'static str,
    pub err_malformed_query: &'static str,
    pub err_unsupported_media: &'static str,
    pub err_unauthorized: &'static str,
    pub err_invalid_fields: &'static str,
}

pub const RU: Tr = Tr {
    lang: "ru",
    pd: &crate::i18n_personal::RU,
    centers: &crate::i18n_centers::RU,
    letter: &crate::i18n_letter::RU,
    console: &crate::i18n_operator::CONSOLE_RU,
    account: &crate::i18n_operator::ACCOUNT_RU,
    recovery: &crate::i18n_recovery::RU,
    factor: &crate::i18n_factor::RU,
    contacts: &crate::i18n_contacts::RU,
    other_lang: "en",
    other_lang_name: "English",
    brand: "Госуслуги",
    tagline: "Доступ к сервисам электронного правительства",
    skip_link: "Перейти к основному содержимому",
    nav_login: "Войти",
    nav_register: "Регистрация",
    nav_me: "Мои данные",
    nav_logout: "Выйти",
    nav_services: "Услуги",
    terms: "Условия использования",
    privacy: "Политика конфиденциальности",
    support: "Служба поддержки: 8 (800) 100-70-10, звонок бесплатный",
    errors_heading: "Исправьте ошибки в форме:",

    home_title: "Портал государственных услуг",
    home_intro: "Получайте государственные услуги в электронном виде, не выходя из дома и не тратя время в очередях. Зарегистрируйтесь один раз — и пользуйтесь одним логином и паролем на портале и на региональных порталах.",
    home_levels: "Учётная запись бывает упрощённой, стандартной и подтверждённой: чем выше уровень, тем больше услуг доступно.",

    register_title: "Регистрация",
    surname: "Фамилия",
    given_name: "Имя",
    phone: "Мобильный телефон",
    phone_hint: "Например: +7 (925) 391-02-02",
    email: "Электронная почта",
    email_hint: "Например: ivanov@mail.ru",
    no_phone: "У меня нет мобильного телефона",
    use_phone: "Указать мобильный телефон",
    consent_before: "Я соглашаюсь с",
    consent_and: "и",
    terms_of_use_link: "Условиями использования",
    privacy_policy_link: "Политикой конфиденциальности",
    register_button: "Зарегистрироваться",
    already_registered: "Уже зарегистрированы?",
    log_in: "Войти",
    organisation_note: "Для регистрации организации необходимо сначала зарегистрировать физическое лицо.",
    phone_use_note: "Номер телефона будет использоваться для входа, для уведомлений о подозрительных действиях с учётной записью и о ходе получения услуг. Он не будет использоваться для рекламы.",

    confirm_phone_title: "Подтверждение номера телефона",
    confirm_email_title: "Подтверждение электронной почты",
    change_data: "Изменить данные",
    code_sent: "На ваш мобильный телефон отправлен код подтверждения, введите его ниже, чтобы закончить регистрацию.",
    code_label: "Код",
    code_hint: "6 цифр из SMS",
    continue_button: "Продолжить",
    code_valid_until: "Код действителен до {}",
    code_valid_seconds: Plural::Ru {
        one: "Код действителен ещё {} секунду",
        few: "Код действителен ещё {} секунды",
        many: "Код действителен ещё {} секунд",
    },
    code_expired: "Срок действия кода истёк. Запросите новый код.",
    resend_code: "Получить новый код",
    resend_email: "Отправить письмо ещё раз",
    resend_after: "Новый код можно будет запросить в {}",
    resend_letter_after: "Письмо можно будет отправить ещё раз в {}",
    new_code_sent: "Новый код отправлен. Предыдущий код больше не действует.",
    new_letter_sent: "Письмо отправлено ещё раз. Предыдущая ссылка больше не действует.",
    email_sent: "Вам на почту отправлено письмо со ссылкой для подтверждения. Пройдите по присланной ссылке и задайте пароль. Воспользуйтесь ссылкой не позднее {}.",
    email_spam_hint: "Если письма нет, проверьте папку «Спам».",

    password_title: "Создание пароля",
    password_heading: "Задайте пароль",
    password_intro: "Для завершения регистрации вам необходимо задать пароль, который будет использоваться для входа в систему.",
    password: "Пароль",
    password_confirmation: "Подтвердите пароль",
    password_rules: "Не менее 8 символов. Подойдут любые буквы, цифры, пробелы и знаки — удобнее всего запомнить фразу из нескольких слов. Нельзя использовать распространённые пароли, номер телефона, имя почтового ящика, фамилию и имя.",
    strength_label: "Безопасность пароля:",
    strength_weak: "низкая",
    strength_medium: "средняя",
    strength_strong: "высокая",
    save: "Сохранить",

    done_title: "Поздравляем! Вы только что зарегистрировались",
    done_text: "Для использования всех возможностей своей учётной записи вам нужно ввести свои личные данные и осуществить их проверку. Вы можете пропустить этот шаг и перейти к получению государственных услуг, для которых не требуются проверенные данные о вас.",
    done_login_note: "Чтобы приступить к заполнению своих личных данных, необходимо войти в свою учётную запись.",
    go_services: "Перейти к получению государственных услуг",
    login_and_fill: "Войти и заполнить личные данные",

    login_title: "Вход",
    login_required: "Для доступа к системам и сервисам электронного правительства вам нужно пройти авторизацию.",
    login_label: "Телефон, почта или СНИЛС",
    login_hint: "Например: +7 (925) 391-02-02, ivanov@mail.ru или 123-456-789 01",
    remember_me: "Запомнить меня",
    login_button: "Войти",
    bad_credentials: "Неверный логин или пароль. Проверьте раскладку клавиатуры и нажатую клавишу Caps Lock. После нескольких неудачных попыток вход ненадолго блокируется.",
    no_account: "Нет учётной записи?",
    logged_out: "Вы вышли из учётной записи.",

    me_title: "Мои данные",
    me_general: "Общие данные",
    me_name: "Фамилия и имя",
    me_contacts: "Контактная информация",
    me_not_given: "не указан",
    me_level: "Уровень учётной записи",
    level_simplified: "упрощённая",
    level_standard: "стандартная",
    level_confirmed: "подтверждённая",
    me_next_levels: "Хотите больше возможностей?",
    me_standard_opens: "Стандартная учётная запись открывает расширенный перечень услуг: личные данные проверяются в Социальном фонде России и в МВД России.",
    me_confirmed_opens: "Подтверждённая учётная запись открывает все услуги портала: личность подтверждается в центре обслуживания, кодом из заказного письма или электронной подписью.",
    me_how_standard: "Для стандартной учётной записи понадобятся паспорт гражданина РФ и СНИЛС.",
    me_how_confirmed: "После проверки личных данных подтвердите личность одним из доступных способов.",
    current_level: "текущий уровень",

    services_title: "Государственные услуги",
    services_intro: "Какие услуги доступны, зависит от уровня учётной записи.",
    services_needs: "Нужна учётная запись:",
    services_available: "доступна вам",
    services_unavailable: "пока недоступна",

    link_invalid_title: "Ссылка недействительна",
    link_confirm_title: "Подтверждение адреса электронной почты",
    link_confirm_registration: "Чтобы продолжить регистрацию, нажмите «Подтвердить». Затем в этом же браузере вы зададите пароль.",
    link_confirm_recovery: "Чтобы восстановить доступ к учётной записи, нажмите «Подтвердить». Затем в этом же браузере вы зададите новый пароль.",
    link_confirm_contact: "Чтобы этот адрес стал адресом вашей учётной записи, нажмите «Подтвердить».",
    link_confirm_button: "Подтвердить",
    link_confirm_not_you: "Если вы этого не делали, просто закройте страницу: ничего не изменится.",
    err_continuation: "Продолжить можно только в том браузере или приложении, где вы ввели код или подтвердили ссылку. Начните заново.",
    link_invalid: "Ссылка недействительна или уже использована. Если вы уже задали пароль, войдите в учётную запись.",
    link_expired: "Срок действия ссылки истёк. Начните регистрацию заново.",
    register_again: "Зарегистрироваться заново",

    error_title: "Ошибка",
    not_found: "Страница не найдена. Проверьте адрес или вернитесь на главную страницу.",
    forbidden_csrf: "Страница устарела. Обновите страницу и повторите действие.",
    internal: "Что-то пошло не так. Мы уже разбираемся; попробуйте ещё раз через несколько минут.",
    unavailable: "Не удалось отправить сообщение. Попробуйте ещё раз через несколько минут.",
    too_many: "Слишком много попыток. Повторите через {} с.",
    bad_request: "Запрос не удалось прочитать.",
    too_large: "Слишком большой запрос.",
    back_home: "На главную",
    registration_gone: "Регистрация не найдена или истёк её срок. Начните регистрацию заново.",

    err_required: "Заполните это поле",
    err_name_too_long: "Не длиннее 100 символов",
    err_name_characters: "Используйте только буквы, дефис, апостроф и пробел",
    err_name_mixed: "Используйте буквы одного алфавита: только русские или только латинские",
    err_name_separator: "Дефис, апостроф и пробел могут стоять только между буквами",
    err_phone_characters: "Номер может содержать только цифры, пробелы, скобки, дефисы и знак +",
    err_phone_length: "Введите номер полностью: +7 и 10 цифр",
    err_phone_not_mobile: "Укажите номер мобильного телефона: после +7 он начинается с 9",
    err_phone_not_russian: "Укажите российский номер мобильного телефона (+7)",
    err_email_missing_at: "В адресе почты должен быть знак @",
    err_email_local: "Проверьте часть адреса до знака @",
    err_email_domain: "Проверьте часть адреса после знака @",
    err_email_too_long: "Адрес почты слишком длинный",
    err_contact_both: "Укажите либо мобильный телефон, либо электронную почту",
    err_consent: "Для регистрации необходимо согласие с условиями использования и политикой конфиденциальности",
    err_code_format: "Код состоит из 6 цифр",
    err_code_wrong: "Неверный код. Осталось попыток: {}",
    err_code_expired: "Срок действия кода истёк. Запросите новый код",
    err_code_exhausted: "Код введён неверно слишком много раз. Запросите новый код",
    err_token: "Ссылка недействительна или устарела",
    err_pw_too_short: "Пароль должен быть не короче 8 символов",
    err_pw_too_long: "Пароль должен быть не длиннее 128 символов",
    err_pw_common: "Этот пароль слишком распространён, его легко подобрать",
    err_pw_phone: "Пароль не должен содержать номер телефона",
    err_pw_email: "Пароль не должен содержать имя почтового ящика",
    err_pw_name: "Пароль не должен содержать фамилию или имя",
    err_pw_service: "Пароль не должен быть названием портала",
    err_pw_snils: "Пароль не должен содержать СНИЛС",
    err_pw_repetitive: "Пароль слишком простой: повторы и последовательности символов легко подобрать",
    err_pw_mismatch: "Пароли не совпадают",
    err_not_confirmed: "Сначала подтвердите телефон или почту",
    err_account_exists: "Учётная запись с этими данными уже существует. Войдите в неё",
    err_field_type: "Неверный тип значения",
    err_malformed_json: "Тело запроса не является корректным JSON",
    err_malformed_query: "Параметры запроса заданы неверно (например, один параметр указан дважды)",
    err_unsupported_media: "Ожидается Content-Type: application/json",
    err_unauthorized: "Требуется вход в учётную запись",
    err_invalid_fields: "Проверьте заполнение полей",
};

pub const EN: Tr = Tr {
    lang: "en",
    pd: &crate::i18n_personal::EN,
    centers: &crate::i18n_centers::EN,
    letter: &crate::i18n_letter::EN,
    console: &crate::i18n_operator::CONSOLE_EN,
    account: &crate::i18n_operator::ACCOUNT_EN,
    recovery: &crate::i18n_recovery::EN,
    factor: &crate::i18n_factor::EN,
    contacts: &crate::i18n_contacts::EN,
    other_lang: "ru",
    other_lang_name: "Русский",
    brand: "State Services",
    tagline: "Access to e-government services",
    skip_link: "Skip to main content",
    nav_login: "Log in",
    nav_register: "Register",
    nav_me: "My data",
    nav_logout: "Log out",
    nav_services: "Services",
    terms: "Terms of use",
    privacy: "Privacy policy",
    support: "Support: 8 (800) 100-70-10, free of charge",
    errors_heading: "Please correct the errors in the form:",

    home_title: "State services portal",
    home_intro: "Get state services online, from home and without queues. Register once and use one login and password on the portal and on regional portals.",
    home_levels: "An account is simplified, standard or confirmed: the higher the level, the more services are open to you.",

    register_title: "Registration",
    surname: "Surname",
    given_name: "Given name",
    phone: "Mobile phone",
    phone_hint: "For example: +7 (925) 391-02-02",
    email: "E-mail",
    email_hint: "For example: ivanov@mail.ru",
    no_phone: "I have no mobile phone",
    use_phone: "Use a mobile phone",
    consent_before: "I agree to the",
    consent_and: "and the",
    terms_of_use_link: "Terms of use",
    privacy_policy_link: "Privacy policy",
    register_button: "Register",
    already_registered: "Already registered?",
    log_in: "Log in",
    organisation_note: "To register an organisation, first register as a person.",
    phone_use_note: "The phone number is used to log in, to warn you of suspicious activity in your account and to tell you how your applications progress. It is never used for advertising.",

    confirm_phone_title: "Phone number confirmation",
    confirm_email_title: "E-mail confirmation",
    change_data: "Change data",
    code_sent: "A confirmation code has been sent to your mobile phone; enter it below to complete registration.",
    code_label: "Code",
    code_hint: "6 digits from the SMS",
    continue_button: "Continue",
    code_valid_until: "The code is valid until {}",
    code_valid_seconds: Plural::En {
        one: "The code is valid for another {} second",
        other: "The code is valid for another {} seconds",
    },
    code_expired: "The code has expired. Request a new one.",
    resend_code: "Get a new code",
    resend_email: "Send the letter again",
    resend_after: "You can request a new code at {}",
    resend_letter_after: "You can have the letter sent again at {}",
    new_code_sent: "A new code has been sent. The previous code no longer works.",
    new_letter_sent: "The letter has been sent again. The previous link no longer works.",
    email_sent: "We have sent you a letter with a confirmation link. Follow the link and set a password. Use the link no later than {}.",
    email_spam_hint: "If there is no letter, check the spam folder.",

    password_title: "Create a password",
    password_heading: "Set a password",
    password_intro: "To complete registration, set the password you will use to log in.",
    password: "Password",
    password_confirmation: "Confirm the password",
    password_rules: "At least 8 characters. Any letters, digits, spaces and symbols will do — a phrase of several words is easiest to remember. Common passwords, your phone number, mailbox name, surname and given name are not allowed.",
    strength_label: "Password strength:",
    strength_weak: "weak",
    strength_medium: "medium",
    strength_strong: "strong",
    save: "Save",

    done_title: "Congratulations! You have just registered",
    done_text: "To use everything your account offers, enter your personal data and have it checked. You can skip this step and go to the state services that do not need verified data about you.",
    done_login_note: "To start filling in your personal data, log in to your account.",
    go_services: "Go to state services",
    login_and_fill: "Log in and fill in personal data",

    login_title: "Log in",
    login_required: "To use the e-government systems and services you need to log in.",
    login_label: "Phone, e-mail or SNILS",
    login_hint: "For example: +7 (925) 391-02-02, ivanov@mail.ru or 123-456-789 01",
    remember_me: "Remember me",
    login_button: "Log in",
    bad_credentials: "Wrong login or password. Check the keyboard layout and Caps Lock. After several failed attempts logging in is blocked for a while.",
    no_account: "No account yet?",
    logged_out: "You have logged out.",

    me_title: "My data",
    me_general: "General data",
    me_name: "Surname and given name",
    me_contacts: "Contacts",
    me_not_given: "not given",
    me_level: "Account level",
    level_simplified: "simplified",
    level_standard: "standard",
    level_confirmed: "confirmed",
    me_next_levels: "Want more?",
    me_standard_opens: "A standard account opens an extended list of services: your personal data are checked with the Social Fund of Russia and the Ministry of Internal Affairs.",
    me_confirmed_opens: "A confirmed account opens every service of the portal: your identity is confirmed at a service center, with a code from a registered letter, or with an electronic signature.",
    me_how_standard: "For a standard account you need your Russian passport and SNILS.",
    me_how_confirmed: "Once your personal data are checked, confirm your identity in one of the ways offered.",
    current_level: "current level",

    services_title: "State services",
    services_intro: "Which services are open depends on the level of your account.",
    services_needs: "Account needed:",
    services_available: "available to you",
    services_unavailable: "not yet available",

    link_invalid_title: "The link is not valid",
    link_confirm_title: "Confirming your e-mail address",
    link_confirm_registration: "To continue your registration, press «Confirm». Then you will set a password in this same browser.",
    link_confirm_recovery: "To recover access to your account, press «Confirm». Then you will set a new password in this same browser.",
    link_confirm_contact: "To make this address the one of your account, press «Confirm».",
    link_confirm_button: "Confirm",
    link_confirm_not_you: "If this was not you, just close this page: nothing will change.",
    err_continuation: "You can continue only in the browser or app where you entered the code or confirmed the link. Please start again.",
    link_invalid: "The link is not valid or has already been used. If you have already set a password, log in.",
    link_expired: "The link has expired. Please start registration again.",
    register_again: "Register again",

    error_title: "Error",
    not_found: "Page not found. Check the address or go back to the home page.",
    forbidden_csrf: "This page has expired. Reload it and try again.",
    internal: "Something went wrong. We are looking into it; please try again in a few minutes.",
    unavailable: "The message could not be sent. Please try again in a few minutes.",
    too_many: "Too many attempts. Try again in {} s.",
    bad_request: "The request could not be read.",
    too_large: "The request is too large.",
    back_home: "Home page",
    registration_gone: "The registration was not found or has expired. Please start again.",

    err_required: "Fill in this field",
    err_name_too_long: "At most 100 characters",
    err_name_characters: "Use letters, hyphens, apostrophes and spaces only",
    err_name_mixed: "Use letters of one alphabet: only Cyrillic or only Latin",
    err_name_separator: "Hyphens, apostrophes and spaces may only stand between letters",
    err_phone_characters: "A number may contain only digits, spaces, brackets, hyphens and the + sign",
    err_phone_length: "Enter the whole number: +7 and 10 digits",
    err_phone_not_mobile: "Enter a mobile number: after +7 it starts with 9",
    err_phone_not_russian: "Enter a Russian mobile number (+7)",
    err_email_missing_at: "An e-mail address contains the @ sign",
    err_email_local: "Check the part of the address before @",
    err_email_domain: "Check the part of the address after @",
    err_email_too_long: "The e-mail address is too long",
    err_contact_both: "Give either a mobile phone or an e-mail address",
    err_consent: "To register you must agree to the terms of use and the privacy policy",
    err_code_format: "The code is 6 digits",
    err_code_wrong: "Wrong code. Attempts left: {}",
    err_code_expired: "The code has expired. Request a new one",
    err_code_exhausted: "The code was entered wrongly too many times. Request a new one",
    err_token: "The link is not valid or has expired",
    err_pw_too_short: "The password must be at least 8 characters long",
    err_pw_too_long: "The password must be at most 128 characters long",
    err_pw_common: "This password is too common and easy to guess",
    err_pw_phone: "The password must not contain your phone number",
    err_pw_email: "The password must not contain your mailbox name",
    err_pw_name: "The password must not contain your surname or given name",
    err_pw_service: "The password must not be the portal's name",
    err_pw_snils: "The password must not contain your SNILS",
    err_pw_repetitive: "The password is too simple: repeats and sequences are easy to guess",
    err_pw_mismatch: "The passwords do not match",
    err_not_confirmed: "Confirm your phone or e-mail first",
    err_account_exists: "An account with these details already exists. Please log in",
    err_field_type: "Wrong type of value",
    err_malformed_json: "The request body is not valid JSON",
    err_malformed_query: "The query string is malformed (a parameter given twice, for one)",
    err_unsupported_media: "Expected Content-Type: application/json",
    err_unauthorized: "Log in first",
    err_invalid_fields: "Check the fields",
};

pub fn tr(lang: Lang) -> &'static Tr {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

/// Puts `value` where the text has `{}`.
pub fn fill(template: &str, value: impl std::fmt::Display) -> String {
    template.replacen("{}", &value.to_string(), 1)
}

/// A text about a count, in each plural form of its language (CLDR rules
/// for integers): «1 секунду», «2 секунды», «5 секунд», «21 секунду»;
/// «1 second», «21 seconds». `static/app.js` picks the same forms.
#[derive(Debug, Clone, Copy)]
pub enum Plural {
    /// one: 1, 21, 101…; few: 2–4, 22–24…; many: 0, 5–20, 25–30, 111…
    Ru {
        one: &'static str,
        few: &'static str,
        many: &'static str,
    },
    /// one: 1; other: everything else.
    En {
        one: &'static str,
        other: &'static str,
    },
}

impl Plural {
    /// The form for `n`, with `{}` in place of the number.
    pub fn form(&self, n: i64) -> &'static str {
        let n = n.unsigned_abs();
        match *self {
            Self::Ru { one, few, many } => match (n % 10, n % 100) {
                (1, r) if r != 11 => one,
                (2..=4, r) if !(12..=14).contains(&r) => few,
                _ => many,
            },
            Self::En { one, other } => {
                if n == 1 {
                    one
                } else {
                    other
                }
            }
        }
    }

    /// The text for `n`, the number put in.
    pub fn fill(&self, n: i64) -> String {
        fill(self.form(n), n)
    }

    /// The rule's name, for a page's script to count down with
    /// (`data-plural`, with the forms in `data-one`, `data-few`, `data-many`).
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Ru { .. } => "ru",
            Self::En { .. } => "en",
        }
    }

    pub fn one(&self) -> &'static str {
        match *self {
            Self::Ru { one, .. } | Self::En { one, .. } => one,
        }
    }

    /// English has no `few`: its `other`.
    pub fn few(&self) -> &'static str {
        match *self {
            Self::Ru { few, .. } => few,
            Self::En { other, .. } => other,
        }
    }

    pub fn many(&self) -> &'static str {
        match *self {
            Self::Ru { many, .. } => many,
            Self::En { other, .. } => other,
        }
    }
}

impl Tr {
    pub fn name_error(&self, e: NameError) -> &'static str {
        match e {
            NameError::Empty => self.err_required,
            NameError::TooLong => self.err_name_too_long,
            NameError::InvalidCharacters => self.err_name_characters,
            NameError::MixedScripts => self.err_name_mixed,
            NameError::MisplacedSeparator => self.err_name_separator,
        }
    }

    pub fn phone_error(&self, e: PhoneError) -> &'static str {
        match e {
            PhoneError::Empty => self.err_required,
            PhoneError::InvalidCharacters => self.err_phone_characters,
            PhoneError::WrongLength => self.err_phone_length,
            PhoneError::NotMobile => self.err_phone_not_mobile,
            PhoneError::NotRussian => self.err_phone_not_russian,
        }
    }

    pub fn email_error(&self, e: EmailError) -> &'static str {
        match e {
            EmailError::Empty => self.err_required,
            EmailError::MissingAt => self.err_email_missing_at,
            EmailError::InvalidLocalPart => self.err_email_local,
            EmailError::InvalidDomain => self.err_email_domain,
            EmailError::TooLong => self.err_email_too_long,
        }
    }

    pub fn password_problem(&self, p: PasswordProblem) -> &'static str {
        match p {
            PasswordProblem::TooShort => self.err_pw_too_short,
            PasswordProblem::TooLong => self.err_pw_too_long,
            PasswordProblem::Common => self.err_pw_common,
            PasswordProblem::ContainsPhone => self.err_pw_phone,
            PasswordProblem::ContainsEmailName => self.err_pw_email,
            PasswordProblem::ContainsName => self.err_pw_name,
            PasswordProblem::Repetitive => self.err_pw_repetitive,
            PasswordProblem::ServiceName => self.err_pw_service,
            PasswordProblem::ContainsSnils => self.err_pw_snils,
        }
    }

    pub fn strength(&self, s: PasswordStrength) -> &'static str {
        match s {
            PasswordStrength::Weak => self.strength_weak,
            PasswordStrength::Medium => self.strength_medium,
            PasswordStrength::Strong => self.strength_strong,
        }
    }

    pub fn level(&self, level: uslugi_domain::AccountLevel) -> &'static str {
        match level {
            uslugi_domain::AccountLevel::Simplified => self.level_simplified,
            uslugi_domain::AccountLevel::Standard => self.level_standard,
            uslugi_domain::AccountLevel::Confirmed => self.level_confirmed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_their_plural_form() {
        let ru = |n| RU.code_valid_seconds.fill(n);
        assert_eq!(ru(1), "Код действителен ещё 1 секунду");
        assert_eq!(ru(2), "Код действителен ещё 2 секунды");
        assert_eq!(ru(5), "Код действителен ещё 5 секунд");
        for (n, form) in [
            (0, "секунд"),
            (4, "секунды"),
            (11, "секунд"),
            (12, "секунд"),
            (14, "секунд"),
            (21, "секунду"),
            (22, "секунды"),
            (25, "секунд"),
            (101, "секунду"),
            (111, "секунд"),
            (299, "секунд"),
        ] {
            assert!(ru(n).ends_with(&format!(" {n} {form}")), "{n}: {}", ru(n));
        }
        let en = |n| EN.code_valid_seconds.fill(n);
        assert_eq!(en(1), "The code is valid for another 1 second");
        assert_eq!(en(21), "The code is valid for another 21 seconds");
        assert_eq!(en(0), "The code is valid for another 0 seconds");
        assert_eq!(RU.pd.err_too_long.fill(3), "Не больше 3 символов");
        assert_eq!(RU.pd.err_too_long.fill(1), "Не больше 1 символа");
        assert_eq!(RU.pd.err_too_long.fill(21), "Не больше 21 символа");
        assert_eq!(EN.pd.err_too_long.fill(1), "At most 1 character");
    }
}
