//! The texts of the citizen's password page, in Russian and English.

pub struct PasswordTr {
    pub password_title: &'static str,
    pub must_change_intro: &'static str,
    pub change_intro: &'static str,
    pub current_password: &'static str,
    pub end_others: &'static str,
    pub save: &'static str,
    pub changed: &'static str,
    pub err_current: &'static str,
    pub err_unchanged: &'static str,
    pub temporary_expired: &'static str,
    /// A login with the right password of a disabled account.
    pub disabled: &'static str,
    pub change_link: &'static str,
}

pub static RU: PasswordTr = PasswordTr {
    password_title: "Смена пароля",
    must_change_intro: "Вы вошли с временным паролем. Придумайте свой пароль: временный больше не подойдёт.",
    change_intro: "Для смены пароля введите текущий пароль и новый, дважды.",
    current_password: "Текущий пароль",
    end_others: "Завершить сеансы на других устройствах",
    save: "Сохранить пароль",
    changed: "Пароль изменён.",
    err_current: "Неверный текущий пароль",
    err_unchanged: "Новый пароль совпадает с прежним",
    temporary_expired: "Срок действия временного пароля истёк. Обратитесь в центр обслуживания за новым.",
    disabled: "Учётная запись заблокирована администратором портала. Обратитесь в центр обслуживания с паспортом.",
    change_link: "Сменить пароль",
};

pub static EN: PasswordTr = PasswordTr {
    password_title: "Change password",
    must_change_intro: "You logged in with a temporary password. Choose your own: the temporary one will not work again.",
    change_intro: "To change the password, enter the current one and the new one twice.",
    current_password: "Current password",
    end_others: "Log out on other devices",
    save: "Save the password",
    changed: "The password is changed.",
    err_current: "Wrong current password",
    err_unchanged: "The new password is the same as the old one",
    temporary_expired: "The temporary password has expired. Ask a service center for a new one.",
    disabled: "The account is disabled by the portal's administrators. Visit a service center with your passport.",
    change_link: "Change password",
};
