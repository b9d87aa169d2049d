func.func @expert_ffn_intermediate_too_large(%rows: tensor<1048576x16xbf16>,
    %gu: tensor<1x536870912x16xbf16>, %d: tensor<1x16x268435456xbf16>) {
  %y = moe.expert_ffn %rows weights %gu, %d
      : (tensor<1048576x16xbf16>, tensor<1x536870912x16xbf16>, tensor<1x16x268435456xbf16>) -> tensor<1048576x16xbf16>
  return
}
