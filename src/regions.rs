//! Which region names exist, and which are opt-in (where tokens from the global STS endpoint are
//! rejected unless the account issues v2 tokens). A static list: doctor runs offline.

/// `(name, opt_in)`.
pub const REGIONS: &[(&str, bool)] = &[
    ("us-east-1", false),
    ("us-east-2", false),
    ("us-west-1", false),
    ("us-west-2", false),
    ("af-south-1", true),
    ("ap-east-1", true),
    ("ap-east-2", true),
    ("ap-south-1", false),
    ("ap-south-2", true),
    ("ap-southeast-1", false),
    ("ap-southeast-2", false),
    ("ap-southeast-3", true),
    ("ap-southeast-4", true),
    ("ap-southeast-5", true),
    ("ap-southeast-6", true),
    ("ap-southeast-7", true),
    ("ap-northeast-1", false),
    ("ap-northeast-2", false),
    ("ap-northeast-3", false),
    ("ca-central-1", false),
    ("ca-west-1", true),
    ("eu-central-1", false),
    ("eu-central-2", true),
    ("eu-west-1", false),
    ("eu-west-2", false),
    ("eu-west-3", false),
    ("eu-south-1", true),
    ("eu-south-2", true),
    ("eu-north-1", false),
    ("il-central-1", true),
    ("me-south-1", true),
    ("me-central-1", true),
    ("mx-central-1", true),
    ("sa-east-1", false),
    ("us-gov-east-1", false),
    ("us-gov-west-1", false),
    ("cn-north-1", false),
    ("cn-northwest-1", false),
];

pub fn known(region: &str) -> bool {
    REGIONS.iter().any(|(r, _)| *r == region)
}

pub fn opt_in(region: &str) -> bool {
    REGIONS.iter().any(|(r, o)| *r == region && *o)
}

/// The region probably meant by a typo such as `us-east1` or `eu-west`.
pub fn suggest(typo: &str) -> Option<&'static str> {
    let squashed = |s: &str| s.replace('-', "").to_ascii_lowercase();
    let t = squashed(typo.trim());
    if let Some((r, _)) = REGIONS.iter().find(|(r, _)| squashed(r) == t) {
        return Some(r);
    }
    // `eu-west` → `eu-west-1`: the first numbered region of that name.
    if let Some((r, _)) = REGIONS.iter().find(|(r, _)| r.strip_suffix("-1") == Some(typo.trim())) {
        return Some(r);
    }
    crate::config::did_you_mean(typo, REGIONS.iter().map(|(r, _)| *r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_caught() {
        assert_eq!(suggest("us-east1"), Some("us-east-1"));
        assert_eq!(suggest("eu-west"), Some("eu-west-1"));
        assert_eq!(suggest("US-EAST-1"), Some("us-east-1"));
        assert_eq!(suggest("eu-wset-1"), Some("eu-west-1"));
        assert!(known("eu-west-1") && !known("eu-west"));
        assert!(opt_in("af-south-1") && !opt_in("us-east-1"));
    }
}
