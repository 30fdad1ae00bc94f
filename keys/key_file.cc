// Placeholder until the keys implementation lands.
