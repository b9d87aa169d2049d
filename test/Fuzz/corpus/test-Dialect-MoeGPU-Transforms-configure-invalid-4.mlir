func.func private @helper(tensor<4xf32>)
func.func @calls(%x: tensor<4xf32>) {
  call @helper(%x) : (tensor<4xf32>) -> ()
  return
}
