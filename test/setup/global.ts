// Loaded by mocha before any test file. No Google client library may probe the cloud metadata
// server from a test: the address is outside loopback.
process.env.METADATA_SERVER_DETECTION = 'none';
process.env.NO_GCE_CHECK = 'true';
