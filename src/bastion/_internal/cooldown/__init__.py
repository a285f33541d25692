"""Release-age cooldown evidence beyond the lockfile: installer settings that enforce an age."""
