"""One perpetrator, one picture: a registry person linked to his prisoner-register entry and his
place in the harm matrix, so each service shows what the others know, by role."""
