// placeholder until the node lands
