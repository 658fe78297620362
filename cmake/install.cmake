# install.cmake: what `cmake --install` puts where (headers, libassoc shared
# and static, the Lua module, the embedding library libassoc_lua.a,
# assoc.pc / assoc-lua.pc, the CMake package), plus the CTest test that
# installs into a temporary prefix and builds examples/host.c against it.
include(CMakePackageConfigHelpers)

# --------------------------------------------- the Lua binding, for hosts
# A C program embedding Lua links this instead of loading assoc.so: the
# same binding sources, archived, over the shared libassoc.
add_library(assoc_lua_static STATIC ${ASSOC_LUA_SOURCES})
set_target_properties(assoc_lua_static PROPERTIES OUTPUT_NAME assoc_lua
                      EXPORT_NAME assoc_lua)
target_include_directories(assoc_lua_static
  PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/bindings>
         $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE ${PROJECT_SOURCE_DIR}/core)
target_compile_options(assoc_lua_static PRIVATE ${ASSOC_WARNINGS})
target_link_libraries(assoc_lua_static PUBLIC assoc PkgConfig::LUA
                      PRIVATE PkgConfig::JANSSON m)
if(ASSOC_WITH_PG)
  target_compile_definitions(assoc_lua_static PRIVATE ASSOC_WITH_PG=1)
endif()

# A LuaRocks build wants the module and nothing else in the rock tree.
option(ASSOC_INSTALL_MODULE_ONLY
       "Install only the Lua module (for LuaRocks)" OFF)

# ---------------------------------------------------------- the Lua module
# The prefix is only known for sure at install time (`cmake --install
# --prefix DIR` overrides the configured one), so the directory is chosen
# then: Lua 5.4's own C module directory for a /usr install, so that plain
# `lua script.lua` finds it, and <prefix>/lib/lua/5.4 for any other prefix
# (on Debian /usr/local/lib/lua/5.4 is on the default cpath too, and a
# temporary prefix needs no root).  ASSOC_LUA_CMOD_DIR forces a directory.
execute_process(COMMAND ${PKG_CONFIG_EXECUTABLE} --variable=INSTALL_CMOD lua5.4
                OUTPUT_VARIABLE ASSOC_LUA_SYSTEM_CMOD
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT ASSOC_LUA_SYSTEM_CMOD)
  set(ASSOC_LUA_SYSTEM_CMOD /usr/lib/lua/5.4)
endif()
set(ASSOC_LUA_CMOD_DIR "" CACHE PATH
    "Install assoc.so here (default: chosen from the install prefix)")
install(CODE "
  if(NOT \"${ASSOC_LUA_CMOD_DIR}\" STREQUAL \"\")
    set(_assoc_cmod \"${ASSOC_LUA_CMOD_DIR}\")
  elseif(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_assoc_cmod \"${ASSOC_LUA_SYSTEM_CMOD}\")
  else()
    set(_assoc_cmod \"\${CMAKE_INSTALL_PREFIX}/lib/lua/5.4\")
  endif()
  file(INSTALL DESTINATION \"\${_assoc_cmod}\" TYPE MODULE
       FILES \"$<TARGET_FILE:assoc_lua>\")
")

# ------------------------------------- pkg-config files, written on install
# Written at install time, so prefix= is the real one.  assoc.pc is the C
# core; assoc-lua.pc adds the Lua binding and Lua for embedding hosts.
# libassoc_lua.a is an archive, so what it calls directly (Lua, Jansson,
# libm) is public, not private: every link of it needs them.
function(assoc_install_pc file name description requires requires_private
         libs libs_private)
  install(CODE "
    set(PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    set(PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
    set(PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
    set(PC_NAME \"${name}\")
    set(PC_DESCRIPTION \"${description}\")
    set(PC_VERSION \"${PROJECT_VERSION}\")
    set(PC_REQUIRES \"${requires}\")
    set(PC_REQUIRES_PRIVATE \"${requires_private}\")
    set(PC_LIBS \"${libs}\")
    set(PC_LIBS_PRIVATE \"${libs_private}\")
    configure_file(\"${PROJECT_SOURCE_DIR}/cmake/assoc.pc.in\"
                   \"${PROJECT_BINARY_DIR}/pkgconfig/${file}\" @ONLY)
    set(_assoc_pcdir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
    file(INSTALL DESTINATION \"\${_assoc_pcdir}/pkgconfig\" TYPE FILE
         FILES \"${PROJECT_BINARY_DIR}/pkgconfig/${file}\")
  ")
endfunction()

if(NOT ASSOC_INSTALL_MODULE_ONLY)
  # ------------------------------------------------ libraries and headers
  install(TARGETS assoc assoc_static assoc_lua_static EXPORT assocTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/core/include/assoc.h
                ${PROJECT_SOURCE_DIR}/bindings/assoc_lua.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

  # ----------------------------------------------------------- pkg-config
  set(ASSOC_PC_REQUIRES_PRIVATE "sqlite3 jansson")
  if(ASSOC_WITH_PG)
    string(APPEND ASSOC_PC_REQUIRES_PRIVATE " libpq")
  endif()
  assoc_install_pc(assoc.pc assoc
    "Sequelize-style associations over SQLite3 and PostgreSQL (C core)"
    "" "${ASSOC_PC_REQUIRES_PRIVATE}" "-lassoc" "-lm")
  assoc_install_pc(assoc-lua.pc assoc-lua
    "The assoc Lua 5.4 module, linked into a C program that embeds Lua"
    "assoc lua5.4 jansson" "" "-lassoc_lua -lm" "")

  # ---------------------------------------------------- the CMake package
  set(ASSOC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/assoc)
  install(EXPORT assocTargets NAMESPACE assoc::
          DESTINATION ${ASSOC_CMAKE_DIR})
  configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/assocConfig.cmake.in
    ${PROJECT_BINARY_DIR}/cmake/assocConfig.cmake
    INSTALL_DESTINATION ${ASSOC_CMAKE_DIR})
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/cmake/assocConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/cmake/assocConfig.cmake
                ${PROJECT_BINARY_DIR}/cmake/assocConfigVersion.cmake
          DESTINATION ${ASSOC_CMAKE_DIR})
endif()

# ------------------------------------------------------------------- test
if(ASSOC_BUILD_TESTS AND NOT ASSOC_INSTALL_MODULE_ONLY)
  # A sanitizer build's libraries need the sanitizer runtime in every
  # program that loads them: the script builds and runs accordingly.
  if(ASSOC_SANITIZE)
    set(ASSOC_TEST_SANITIZE 1)
  else()
    set(ASSOC_TEST_SANITIZE 0)
  endif()
  add_test(NAME install_and_host
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_install.sh
            ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(install_and_host PROPERTIES TIMEOUT 300
    ENVIRONMENT "CMAKE=${CMAKE_COMMAND};CC=${CMAKE_C_COMPILER};\
ASSOC_SANITIZE=${ASSOC_TEST_SANITIZE}")
endif()
