"""The app's logic that needs no Qt: what the service hub (``ui.state.AppState``) decides and
says, as plain Python a test can call without a display."""
