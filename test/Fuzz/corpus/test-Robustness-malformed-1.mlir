func.func @f() attributes {t = #moe.topology<nodes = 2, gpus_per_node =
