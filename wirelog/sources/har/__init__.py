"""HAR files (a browser's DevTools "Save all as HAR"): their WebSocket
entries as connections, read by :mod:`wirelog.sources.har.reader`."""
