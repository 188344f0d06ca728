"""Reading a Jekyll site the way Jekyll 4.3 does: config, posts, dates, URLs, excerpts."""
