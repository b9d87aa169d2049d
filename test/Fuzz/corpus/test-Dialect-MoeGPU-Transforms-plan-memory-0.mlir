func.func @experts(%rows: tensor<?x256xbf16>, %offsets: tensor<9xi32>,
                   %gate_up: tensor<8x256x256xbf16>, %down: tensor<8x256x128xbf16>)
    -> tensor<?x256xbf16> {
  %y = moe.expert_ffn %rows offsets %offsets weights %gate_up, %down
      : (tensor<?x256xbf16>, tensor<9xi32>, tensor<8x256x256xbf16>, tensor<8x256x128xbf16>)
        -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}
