/// Readable random identifiers such as `anonymouz-brisk-otter-40213881`, for users and workspaces.
enum ReadableName {
    private static let adjectives = [
        "amber", "bold", "brisk", "calm", "clever", "cosmic", "crisp", "daring", "eager", "fancy", "gentle", "glad",
        "golden", "happy", "humble", "jolly", "keen", "lively", "lucky", "mellow", "merry", "nimble", "noble",
        "polite", "proud", "quick", "quiet", "rapid", "shiny", "silent", "smart", "snowy", "sunny", "swift", "tidy",
        "vivid", "warm", "wise", "witty", "zesty",
    ]
    private static let nouns = [
        "badger", "beacon", "canyon", "cedar", "comet", "coral", "delta", "falcon", "fern", "galaxy", "harbor",
        "heron", "island", "jackal", "lagoon", "lantern", "maple", "meadow", "meteor", "nebula", "otter", "panda",
        "pebble", "pixel", "prairie", "quartz", "raven", "reef", "river", "saturn", "sparrow", "spruce", "summit",
        "tiger", "tulip", "valley", "walrus", "willow", "zebra", "zephyr",
    ]

    /// `<adjective>-<noun>-<8 digits>`.
    static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        let number = Int.random(in: 10_000_000...99_999_999, using: &rng)
        return "\(adjectives.randomElement(using: &rng)!)-\(nouns.randomElement(using: &rng)!)-\(number)"
    }
}
