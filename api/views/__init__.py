"""The web process's views: one blueprint per area, each parsing, calling `shared`, answering."""
