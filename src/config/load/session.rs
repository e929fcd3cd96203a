//! Checking one `[[session]]` table into a [`SessionConfig`]: its name, the keys its method
//! requires or refuses (the table in `rules.rs`), the format of each value, its duration, and
//! where its credentials go. The rest of the file, and the checks every table shares, are the
//! parent's.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Checker, short};
use crate::config::rules::{self, Key, MethodRules, Rule};
use crate::config::{
    Home, Loc, SessionConfig, Settings, is_iam_arn, is_mfa_serial, is_region, is_role_session_name,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSession {
    name: Spanned<String>,
    method: Spanned<String>,
    source_profile: Spanned<String>,
    role_arn: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    role_session_name: Option<Spanned<String>>,
    mfa_serial: Option<Spanned<String>>,
    mfa_command: Option<Spanned<String>>,
    duration: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    env_file: Option<Spanned<String>>,
    write_profile: Option<Spanned<bool>>,
    direct_mfa: Option<Spanned<bool>>,
}

impl RawSession {
    fn get(&self, key: Key) -> &Option<Spanned<String>> {
        match key {
            Key::RoleArn => &self.role_arn,
            Key::ExternalId => &self.external_id,
            Key::RoleSessionName => &self.role_session_name,
            Key::MfaSerial => &self.mfa_serial,
            Key::MfaCommand => &self.mfa_command,
            Key::Duration => &self.duration,
        }
    }
}

impl Checker<'_> {
    /// One `[[session]]`; `None` when its method is unknown, since every other check depends on
    /// it. `names` are the sessions before it, to catch a name used twice.
    pub(super) fn session(
        &mut self,
        s: &Spanned<RawSession>,
        names: &mut Vec<(String, Loc)>,
    ) -> Option<SessionConfig> {
        let loc = self.loc(s);
        let s = s.get_ref();
        let methods = rules::METHODS.map(|r| (r.method.as_str(), r.method));
        let rules = rules::of(self.one_of("method", &s.method, &methods)?);
        let name = s.name.get_ref().clone();
        self.session_name(s, names);
        self.method_rules(s, rules, loc);
        self.value_formats(s, rules);
        let duration = self.session_duration(s, rules);
        let home = self.home(s, loc);
        let direct_mfa = self.direct_mfa(s, rules);
        let get = |v: &Option<Spanned<String>>| v.as_ref().map(|v| v.get_ref().clone());
        Some(SessionConfig {
            name,
            home,
            settings: Settings {
                method: rules.method,
                source_profile: s.source_profile.get_ref().clone(),
                role_arn: get(&s.role_arn),
                external_id: get(&s.external_id),
                role_session_name: get(&s.role_session_name),
                mfa_serial: get(&s.mfa_serial),
                mfa_command: get(&s.mfa_command),
                duration,
                region: get(&s.region),
                direct_mfa,
            },
            loc,
            source_loc: self.loc(&s.source_profile),
        })
    }

    /// The session's name: one SDKs accept, not used before, and not its own source profile.
    fn session_name(&mut self, s: &RawSession, names: &mut Vec<(String, Loc)>) {
        let name = s.name.get_ref().clone();
        self.pattern(
            "name",
            &s.name,
            !name.is_empty() && crate::profile::parse::is_identifier(&name),
            "a profile name SDKs accept (letters, digits and _-/.%@:+)",
        );
        if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
            let l = self.loc(&s.name);
            self.error(
                l,
                "name",
                format!("session \"{name}\" is already defined on line {}", first.line),
                None,
            );
        }
        names.push((name.clone(), self.loc(&s.name)));
        if s.source_profile.get_ref() == &name {
            let l = self.loc(&s.source_profile);
            self.error(
                l,
                "source_profile",
                format!("the session writes profile \"{name}\", so it cannot also read its keys from it"),
                Some(
                    "keep long-term keys in a separate profile, e.g. \"{name}-long-term\""
                        .replace("{name}", &name),
                ),
            );
        }
    }

    /// The keys the session's method requires or refuses (`rules.rs`).
    fn method_rules(&mut self, s: &RawSession, rules: &MethodRules, table: Loc) {
        for (key, rule) in rules.keys {
            match (rule, s.get(*key)) {
                (Rule::Required(message), None) => self.error(table, key.as_str(), (*message).into(), None),
                (Rule::Refused { why, fix }, Some(v)) => {
                    let l = self.loc(v);
                    self.error(l, key.as_str(), (*why).into(), fix.map(str::to_string));
                }
                _ => {}
            }
        }
    }

    /// The format of each value, whatever the method makes of the key (a role_arn it refuses
    /// has been reported already).
    fn value_formats(&mut self, s: &RawSession, rules: &MethodRules) {
        if let Some(arn) = &s.role_arn
            && !rules.refuses(Key::RoleArn)
        {
            let ok = is_iam_arn(arn.get_ref(), "role");
            self.pattern("role_arn", arn, ok, "a role ARN like \"arn:aws:iam::123456789012:role/name\"");
        }
        if let Some(v) = &s.role_session_name {
            let ok = is_role_session_name(v.get_ref());
            self.pattern("role_session_name", v, ok, "2-64 letters, digits or _+=,.@-");
        }
        if let Some(v) = &s.external_id {
            let ok = (2..=1224).contains(&v.get_ref().len());
            self.pattern("external_id", v, ok, "2-1224 characters long");
        }
        if let Some(v) = &s.mfa_serial {
            self.pattern("mfa_serial", v, is_mfa_serial(v.get_ref()), "an MFA device ARN or serial number");
        }
        if let (Some(cmd), None) = (&s.mfa_command, &s.mfa_serial) {
            let l = self.loc(cmd);
            let message = "an MFA command needs an mfa_serial to send the code for";
            self.error(l, "mfa_command", message.into(), None);
        }
        if let Some(r) = &s.region {
            self.pattern("region", r, is_region(r.get_ref()), "a region name like \"eu-west-1\"");
        }
    }

    /// The session's duration, within the range of its method.
    fn session_duration(&mut self, s: &RawSession, rules: &MethodRules) -> Duration {
        let default = rules.method.default_duration();
        let Some(v) = &s.duration else { return default };
        let duration = self.duration("duration", &s.duration, default);
        let (lo, hi) = rules.duration;
        if duration < lo || duration > hi {
            let l = self.loc(v);
            let message = format!("{} sessions last {} to {}", rules.method.as_str(), short(lo), short(hi));
            self.error(l, "duration", message, None);
        }
        duration
    }

    /// `direct_mfa`: only an assume-role session with an mfa_serial has a code to take directly.
    fn direct_mfa(&mut self, s: &RawSession, rules: &MethodRules) -> bool {
        let Some(v) = &s.direct_mfa else { return false };
        let l = self.loc(v);
        if rules.method != crate::config::Method::AssumeRole {
            let message = "only assume-role sessions take this key: other methods are never assumed from the shared MFA session";
            self.error(l, "direct_mfa", message.into(), None);
        } else if s.mfa_serial.is_none() {
            let message = "direct MFA needs an mfa_serial to send the code for";
            self.error(l, "direct_mfa", message.into(), None);
        }
        *v.get_ref()
    }

    /// Where the session's credentials go: the profile, an env file, or both.
    fn home(&mut self, s: &RawSession, table: Loc) -> Home {
        let write_profile = s.write_profile.as_ref().map(|w| *w.get_ref()).unwrap_or(true);
        if let (false, None) = (write_profile, &s.env_file) {
            let l = s.write_profile.as_ref().map(|w| self.loc(w)).unwrap_or(table);
            let message = "with write_profile = false the session needs an env_file to go to";
            self.error(l, "write_profile", message.into(), None);
        }
        match (write_profile, s.env_file.as_ref().and_then(|v| self.env_path(v))) {
            (true, None) | (false, None) => Home::Profile,
            (true, Some(p)) => Home::Both(p),
            (false, Some(p)) => Home::EnvFile(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::errors;

    /// Issue 29: `direct_mfa` and `mfa_session_duration`, checked like every other key.
    #[test]
    fn issue29_direct_mfa_and_the_mfa_session_duration() {
        let role = "[[session]]\nname = \"a\"\nsource_profile = \"b\"\nmethod = \"assume-role\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\n";
        let serial = "mfa_serial = \"arn:aws:iam::123456789012:mfa/x\"\n";
        let path = std::path::Path::new("/c.toml");
        let c = crate::config::Config::parse(&format!("{role}{serial}direct_mfa = true\n"), path).unwrap();
        assert!(c.sessions[0].settings.direct_mfa);
        assert_eq!(c.mfa_session_duration, std::time::Duration::from_secs(12 * 3600));
        let c =
            crate::config::Config::parse(&format!("mfa_session_duration = \"36h\"\n{role}"), path).unwrap();
        assert_eq!(c.mfa_session_duration, std::time::Duration::from_secs(36 * 3600));
        assert_eq!(
            errors(&format!("{role}direct_mfa = true\n")),
            ["/c.toml:6:14: `direct_mfa`: direct MFA needs an mfa_serial to send the code for"]
        );
        let token = "[[session]]\nname = \"a\"\nsource_profile = \"b\"\nmethod = \"session-token\"\n";
        assert!(
            errors(&format!("{token}{serial}direct_mfa = false\n"))[0].contains("only assume-role sessions")
        );
        assert_eq!(
            errors("mfa_session_duration = \"48h\"\n"),
            ["/c.toml:1:24: `mfa_session_duration`: an MFA session (GetSessionToken) lasts 15m to 36h"]
        );
        assert_eq!(errors("mfa_session_duration = \"10m\"\n").len(), 1);
    }

    #[test]
    fn session_rules() {
        let base = "[[session]]\nname = \"a\"\nsource_profile = \"b\"\n";
        let e = errors(&format!("{base}method = \"assume-role\"\nrole_arn = \"arn:aws:iam::12:role/x\"\n"));
        assert!(e[0].contains("role_arn"), "{e:?}");
        let e = errors(&format!(
            "{base}method = \"assume-role\"\nrole_arn = \"arn:aws:iam::123456789012:role/x\"\nduration = \"13h\"\n"
        ));
        assert!(e[0].contains("assume-role sessions last 15m to 12h"), "{e:?}");
        let e = errors(&format!("{base}method = \"session-token\"\nduration = \"37h\"\n"));
        assert!(e[0].contains("36h"), "{e:?}");
        let e = errors(&format!(
            "{base}method = \"assume-role\"\nrole_arn = \"arn:aws:iam::123456789012:role/x\"\nrole_session_name = \"has space\"\n"
        ));
        assert!(e[0].contains("role_session_name"), "{e:?}");
        let e = errors("[[session]]\nname = \"a\"\nsource_profile = \"a\"\nmethod = \"session-token\"\n");
        assert!(e[0].contains("cannot also read its keys"), "{e:?}");
        let e = errors(
            "[[session]]\nname = \"a\"\nsource_profile = \"b\"\nmethod = \"session-token\"\nmfa_command = \"x\"\n",
        );
        assert!(e[0].contains("needs an mfa_serial"), "{e:?}");
        let dup = format!("{base}method = \"session-token\"\n{base}method = \"session-token\"\n");
        assert!(errors(&dup)[0].contains("already defined on line 2"));
    }

    /// Every per-method rule, with its exact wording and position, so the table that holds them
    /// says what the code it replaced said.
    #[test]
    fn method_rules_word_for_word() {
        let text = "[[session]]\nname = \"t\"\nmethod = \"session-token\"\nsource_profile = \"b\"\n\
            role_arn = \"x\"\nexternal_id = \"1\"\nrole_session_name = \"a b\"\nmfa_command = \"c\"\n\
            duration = \"40h\"\nregion = \"nowhere\"\nwrite_profile = false\n\
            [[session]]\nname = \"s\"\nmethod = \"sso\"\nsource_profile = \"b\"\nrole_arn = \"x\"\n\
            external_id = \"12\"\nrole_session_name = \"ab\"\nmfa_serial = \"bad\"\nmfa_command = \"c\"\n\
            duration = \"1m\"\n\
            [[session]]\nname = \"a\"\nmethod = \"assume-role\"\nsource_profile = \"b\"\nduration = \"soon\"\n\
            [[session]]\nname = \"r\"\nmethod = \"assume-role\"\nsource_profile = \"b\"\nrole_arn = \"x\"\n\
            external_id = \"1\"\n";
        let want = [
            "/c.toml:5:12: `role_arn`: session-token sessions do not assume a role; use method = \"assume-role\", or remove role_arn",
            "/c.toml:6:15: `external_id`: only assume-role sessions take this key",
            "/c.toml:7:21: `role_session_name`: only assume-role sessions take this key",
            "/c.toml:7:21: `role_session_name`: \"a b\" is not 2-64 letters, digits or _+=,.@-",
            "/c.toml:6:15: `external_id`: \"1\" is not 2-1224 characters long",
            "/c.toml:8:15: `mfa_command`: an MFA command needs an mfa_serial to send the code for",
            "/c.toml:10:10: `region`: \"nowhere\" is not a region name like \"eu-west-1\"",
            "/c.toml:9:12: `duration`: session-token sessions last 15m to 36h",
            "/c.toml:11:17: `write_profile`: with write_profile = false the session needs an env_file to go to",
            "/c.toml:16:12: `role_arn`: sso sessions get the role of their SSO profile (sso_role_name); use method = \"assume-role\" with the SSO profile as source_profile to assume another role",
            "/c.toml:17:15: `external_id`: sso sessions take this from IAM Identity Center (the permission set), not from credd",
            "/c.toml:18:21: `role_session_name`: sso sessions take this from IAM Identity Center (the permission set), not from credd",
            "/c.toml:19:14: `mfa_serial`: sso sessions take this from IAM Identity Center (the permission set), not from credd",
            "/c.toml:20:15: `mfa_command`: sso sessions take this from IAM Identity Center (the permission set), not from credd",
            "/c.toml:21:12: `duration`: sso sessions take this from IAM Identity Center (the permission set), not from credd",
            "/c.toml:19:14: `mfa_serial`: \"bad\" is not an MFA device ARN or serial number",
            "/c.toml:21:12: `duration`: sso sessions last 15m to 12h",
            "/c.toml:22:1: `role_arn`: assume-role sessions need a role_arn",
            "/c.toml:26:12: `duration`: `soon` is not a duration (expected number at 0); write it like \"15m\", \"1h\" or \"90s\"",
            "/c.toml:31:12: `role_arn`: \"x\" is not a role ARN like \"arn:aws:iam::123456789012:role/name\"",
            "/c.toml:32:15: `external_id`: \"1\" is not 2-1224 characters long",
        ];
        assert_eq!(errors(text), want);
    }
}
