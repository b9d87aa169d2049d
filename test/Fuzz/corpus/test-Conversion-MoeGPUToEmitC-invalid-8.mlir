func.func private @printMemrefF32(memref<*xf32>)
