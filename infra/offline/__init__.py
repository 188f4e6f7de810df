"""The Pulumi program without the Pulumi CLI: SDK mocks with realistic outputs (`mocks`), the
offline render in json/yaml/markdown (`render`), a review diff of two renders (`diff`) and the
README's generated config table (`docs`)."""
