int main() { return 0; }  // placeholder until the node lands
