func.func @small(%x: tensor<?x256xbf16>, %router: tensor<64x256xbf16>,
                 %gate_up: tensor<1x256x256xbf16>, %down: tensor<1x256x128xbf16>)
    -> (tensor<?x64xf32>, tensor<?x256xbf16>) {
  %z = moe.gate %x, %router : tensor<?x256xbf16>, tensor<64x256xbf16> -> tensor<?x64xf32>
  %y = moe.expert_ffn %x weights %gate_up, %down
      : (tensor<?x256xbf16>, tensor<1x256x256xbf16>, tensor<1x256x128xbf16>) -> tensor<?x256xbf16>
  return %z, %y : tensor<?x64xf32>, tensor<?x256xbf16>
}
