func.func @score_overflowing_bytes(%z: tensor<4611686018427387904x256xf32>) {
  %s = moe.score sigmoid %z : tensor<4611686018427387904x256xf32> -> tensor<4611686018427387904x256xf32>
  return
}
