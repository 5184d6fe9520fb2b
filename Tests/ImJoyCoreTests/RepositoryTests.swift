import ImJoyCore
import Testing

struct PluginURITests {
    static let forms: [(String, PluginURI, String)] = [
        (
            "imjoy-team/imjoy-plugins:Image Viewer",
            .repository(owner: "imjoy-team", repo: "imjoy-plugins", ref: nil, name: "Image Viewer", tag: nil),
            "imjoy-team/imjoy-plugins:Image Viewer"
        ),
        (
            "imjoy-team/imjoy-plugins@a1b2c3:Image Viewer@GPU",
            .repository(owner: "imjoy-team", repo: "imjoy-plugins", ref: "a1b2c3", name: "Image Viewer", tag: "GPU"),
            "imjoy-team/imjoy-plugins@a1b2c3:Image Viewer"
        ),
        (
            "https://github.com/o/r/blob/main/plugins/x.imjoy.html",
            .file(url: "https://raw.githubusercontent.com/o/r/main/plugins/x.imjoy.html", tag: nil),
            "https://raw.githubusercontent.com/o/r/main/plugins/x.imjoy.html"
        ),
        (
            "https://github.com/o/r/blob/v1/x.imjoy.html@CPU",
            .file(url: "https://raw.githubusercontent.com/o/r/v1/x.imjoy.html", tag: "CPU"),
            "https://raw.githubusercontent.com/o/r/v1/x.imjoy.html"
        ),
        (
            "https://raw.githubusercontent.com/o/r/master/x.imjoy.html@stable",
            .file(url: "https://raw.githubusercontent.com/o/r/master/x.imjoy.html", tag: "stable"),
            "https://raw.githubusercontent.com/o/r/master/x.imjoy.html"
        ),
        ("https://example.org/p.imjoy.html?v=2", .file(url: "https://example.org/p.imjoy.html?v=2", tag: nil), "https://example.org/p.imjoy.html?v=2"),
        ("https://gist.github.com/someone/0123abcd", .gist(id: "0123abcd", tag: nil), "https://gist.github.com/0123abcd"),
        ("https://gist.github.com/0123abcd", .gist(id: "0123abcd", tag: nil), "https://gist.github.com/0123abcd"),
        ("https://kaibu.org/#/app", .webApp(url: "https://kaibu.org/#/app"), "https://kaibu.org/#/app"),
        ("Image Window", .name("Image Window", tag: nil), "Image Window"),
        ("Image Window@dev", .name("Image Window", tag: "dev"), "Image Window"),
    ]

    @Test("every URI form resolves as ImJoy resolves it", arguments: forms)
    func resolve(text: String, expected: PluginURI, origin: String) throws {
        let uri = try PluginURI.parse(text)
        #expect(uri == expected)
        #expect(uri.origin == origin)
    }

    @Test("repository URIs point at the manifest, on master unless a ref is given")
    func manifests() throws {
        #expect(
            try PluginURI.parse("o/r:X").manifestURL == "https://raw.githubusercontent.com/o/r/master/manifest.imjoy.json")
        #expect(
            try PluginURI.parse("o/r@dev:X").manifestURL == "https://raw.githubusercontent.com/o/r/dev/manifest.imjoy.json")
        #expect(
            RepositoryManifest.manifestURL(for: "https://github.com/o/r/tree/v2")
                == "https://raw.githubusercontent.com/o/r/v2/manifest.imjoy.json")
        #expect(
            RepositoryManifest.manifestURL(for: "https://github.com/o/r")
                == "https://raw.githubusercontent.com/o/r/master/manifest.imjoy.json")
        #expect(
            RepositoryManifest.manifestURL(for: "https://gitlab.com/o/r/-/raw/main/manifest.imjoy.json")
                == "https://gitlab.com/o/r/-/raw/main/manifest.imjoy.json")
    }

    @Test("malformed URIs are refused with the accepted forms")
    func invalid() {
        for text in ["", "a/b/c:Name", "owner/repo:", "/repo:X"] {
            let error = #expect(throws: PluginParseError.self) { try PluginURI.parse(text) }
            #expect(error?.code == .invalidURI)
            #expect(error?.message.contains("owner/repo[@ref]:Name[@TAG]") == true)
        }
    }
}

struct RepositoryManifestTests {
    static let manifest = """
        {
          "name": "Example Plugins",
          "description": "A test repository",
          "version": "0.2.0",
          "uri_root": "",
          "plugins": [
            {"name": "Image Viewer", "type": "window", "version": "0.2.1", "uri": "plugins/viewer.imjoy.html"},
            {"name": "Segmenter", "type": "native-python", "tags": ["CPU", "GPU"]},
            {"name": "Hidden", "type": "window", "disabled": true},
            {"name": "Remote", "type": "window", "uri": "https://cdn.example.org/remote.imjoy.html"}
          ],
          "collections": [{"name": "Imaging", "plugins": ["Image Viewer", "Missing"]}]
        }
        """

    @Test("a manifest resolves relative URIs, defaults them from the name and hides disabled entries")
    func parse() throws {
        let url = "https://raw.githubusercontent.com/o/r/master/manifest.imjoy.json"
        let manifest = try RepositoryManifest.parse(Self.manifest, url: url)
        #expect(manifest.name == "Example Plugins")
        #expect(manifest.uriRoot == "https://raw.githubusercontent.com/o/r/master")
        #expect(manifest.plugins.map(\.name) == ["Image Viewer", "Segmenter", "Remote"])
        #expect(manifest.entry(named: "Image Viewer")?.uri == "https://raw.githubusercontent.com/o/r/master/plugins/viewer.imjoy.html")
        #expect(manifest.entry(named: "Segmenter")?.uri == "https://raw.githubusercontent.com/o/r/master/Segmenter.imjoy.html")
        #expect(manifest.entry(named: "Segmenter")?.tags == ["CPU", "GPU"])
        #expect(manifest.entry(named: "Remote")?.uri == "https://cdn.example.org/remote.imjoy.html")
        #expect(manifest.collections.first?.plugins == ["Image Viewer", "Missing"])
        #expect(manifest.warnings.contains { $0.message.contains("'Missing', which is not in the manifest") })
        let rooted = try RepositoryManifest.parse(#"{"uri_root": "src/", "plugins": [{"name": "A"}]}"#, url: url)
        #expect(rooted.plugins[0].uri == "https://raw.githubusercontent.com/o/r/master/src/A.imjoy.html")
    }

    @Test("a manifest entry without a name is an error at its position")
    func entryWithoutName() throws {
        let text = """
            {"plugins": [
              {"name": "A"},
              {"type": "window"}
            ]}
            """
        let error = try #require(throws: PluginParseError.self) {
            try RepositoryManifest.parse(text, url: "https://x.org/manifest.imjoy.json", file: "manifest.imjoy.json")
        }
        #expect(error.code == .invalidManifest)
        #expect(error.description == "manifest.imjoy.json:3:3: plugins[1] has no \"name\"; every manifest entry needs one")
        let notJSON = try #require(throws: PluginParseError.self) {
            try RepositoryManifest.parse("{\"plugins\": [}", url: "https://x.org/m.json")
        }
        #expect(notJSON.code == .invalidManifest)
        #expect(notJSON.message.contains("invalid JSON in the manifest"))
    }
}
