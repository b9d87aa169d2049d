func.func @fp8_permute_of_arguments(%q: tensor<?x256xf8E4M3FN>, %s: tensor<?x2xf32>, %ids: tensor<?x2xi32>,
                                    %w: tensor<?x2xf32>) -> tensor<?x256xf8E4M3FN> {
  %rows, %map, %off, %rs = moe.permute %q scales %s, %ids, %w
      : (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x256xf8E4M3FN>, tensor<?x2xi32>, tensor<9xi32>, tensor<?x2xf32>)
  return %rows : tensor<?x256xf8E4M3FN>
}
