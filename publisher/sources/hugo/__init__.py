"""Reading a Hugo site as Hugo 0.111.3 does: config, content, dates, URLs, summaries, shortcodes."""
