func.func @layer_rows_too_large(%x: tensor<8589934592x7168xbf16>, %r: tensor<256x7168xbf16>,
    %gu: tensor<256x4096x7168xbf16>, %d: tensor<256x7168x2048xbf16>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 8
      : (tensor<8589934592x7168xbf16>, tensor<256x7168xbf16>, tensor<256x4096x7168xbf16>, tensor<256x7168x2048xbf16>) -> tensor<8589934592x7168xbf16>
  return
}
