"""Web shell: app factory, layout templates, static assets, shared page helpers."""
