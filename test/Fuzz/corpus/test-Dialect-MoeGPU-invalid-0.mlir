module attributes {moegpu.target = "sm_90a"} {
}
