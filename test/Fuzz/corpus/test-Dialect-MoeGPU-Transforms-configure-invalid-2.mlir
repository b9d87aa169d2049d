func.func @returns_argument(%z: tensor<?x3074457345618258603xf32>) -> tensor<?x3074457345618258603xf32> {
  return %z : tensor<?x3074457345618258603xf32>
}
