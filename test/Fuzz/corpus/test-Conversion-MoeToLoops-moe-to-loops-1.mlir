func.func @softmax(%z: tensor<?x8xbf16>) -> tensor<?x8xf32> {
  %s = moe.score softmax %z : tensor<?x8xbf16> -> tensor<?x8xf32>
  return %s : tensor<?x8xf32>
}
