func.func @returns_argument(%z: tensor<?x8xf32>) -> tensor<?x8xf32> {
  return %z : tensor<?x8xf32>
}
