"""Objects the tests inject into real runs through Hydra overrides (``+callbacks.x={_target_: ...}``)."""
