"""What the screens show: the snapshot a socket opens with and the changes after it,
built side by side from the same renderers (consoles and wallboards)."""
