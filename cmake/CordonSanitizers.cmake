# cordon_sanitize(<target>): apply CORDON_SANITIZE (a list such as
# "address;undefined") to a target. Never used on the hook: ASan must be the
# first DSO loaded and a preloaded hook cannot promise that.
function(cordon_sanitize target)
  if(CORDON_SANITIZE)
    list(JOIN CORDON_SANITIZE "," san)
    target_compile_options(${target} PUBLIC -fsanitize=${san} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PUBLIC -fsanitize=${san})
  endif()
endfunction()
