# cli.cmake: the `assoc` command (bindings/assoc_cli.c), a Lua 5.4 runner
# with the module preloaded and a database opened from -d URL.  It links
# the binding archive from install.cmake, which must be included first.
if(NOT TARGET assoc_lua_static)
  message(FATAL_ERROR "cmake/cli.cmake needs assoc_lua_static "
          "(include cmake/install.cmake first)")
endif()

add_executable(assoc_cli ${PROJECT_SOURCE_DIR}/bindings/assoc_cli.c)
# The installed program finds libassoc next to it, so a prefix other than
# /usr works without LD_LIBRARY_PATH.
set_target_properties(assoc_cli PROPERTIES OUTPUT_NAME assoc
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin
  INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
target_compile_options(assoc_cli PRIVATE ${ASSOC_WARNINGS})
target_link_libraries(assoc_cli PRIVATE assoc_lua_static)
if(NOT ASSOC_INSTALL_MODULE_ONLY)
  install(TARGETS assoc_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
