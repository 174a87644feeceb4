//! Member roles and what each may do. Every handler that changes data asks one of these.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Member,
    Moderator,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "member" => Some(Role::Member),
            "moderator" => Some(Role::Moderator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    /// Hide and unhide posts and comments (admins moderate too).
    pub fn can_moderate(self) -> bool {
        self >= Role::Moderator
    }

    /// Manage the tag list and members' roles.
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_nest() {
        assert!(!Role::Member.can_moderate());
        assert!(Role::Moderator.can_moderate() && !Role::Moderator.can_administer());
        assert!(Role::Admin.can_moderate() && Role::Admin.can_administer());
        for r in [Role::Member, Role::Moderator, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
