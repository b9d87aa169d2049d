# Thin wrappers over AddMLIR that keep the project's CMake short.

# Generates op/attr/enum declarations for a dialect .td and hooks them into
# moe-headers.
function(add_moe_dialect dialect dialect_namespace)
  add_mlir_dialect(${ARGV})
  add_dependencies(moe-headers MLIR${dialect}IncGen)
endfunction()

# Generates Markdown docs into ${CMAKE_BINARY_DIR}/docs and hangs them on
# moe-doc. The committed copy under docs/ is compared against it by a test.
function(add_moe_doc td_filename output_file command)
  set(LLVM_TARGET_DEFINITIONS ${td_filename}.td)
  tablegen(MLIR ${output_file}.md ${command} ${ARGN})
  set(GEN_DOC_FILE ${CMAKE_BINARY_DIR}/docs/generated/${output_file}.md)
  add_custom_command(
    OUTPUT ${GEN_DOC_FILE}
    COMMAND ${CMAKE_COMMAND} -E copy
            ${CMAKE_CURRENT_BINARY_DIR}/${output_file}.md ${GEN_DOC_FILE}
    DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/${output_file}.md)
  add_custom_target(${output_file}DocGen DEPENDS ${GEN_DOC_FILE})
  add_dependencies(moe-doc ${output_file}DocGen)
endfunction()

# add_mlir_library for project code: LINK_LIBS names project libraries,
# MLIR_LIBS names upstream ones, which become libMLIR.so when
# MLIR_LINK_MLIR_DYLIB is on (one copy of MLIR per process).
function(add_moe_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LINK_LIBS;MLIR_LIBS" ${ARGN})
  add_mlir_library(${name} ${ARG_UNPARSED_ARGUMENTS}
    DEPENDS ${ARG_DEPENDS} moe-headers
    LINK_LIBS PUBLIC ${ARG_LINK_LIBS})
  mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS})
endfunction()
