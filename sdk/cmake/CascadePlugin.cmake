# cascade_add_plugin(<name> SOURCES <src>... [LINK_LIBRARIES <lib>...])
#
# Builds one Cascade plugin exactly as every team should: a MODULE library
# named cascade-<name>.so, linked only against the header-only SDK (plus
# what the plugin itself needs), hidden visibility so that only the entry
# point is exported, and -Wl,--no-undefined so that a missing symbol fails
# the LINK instead of the first call at run time.
#
# If CASCADE_PLUGIN_OUTPUT_DIRECTORY is set, the .so is written there.
function(cascade_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK_LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "cascade_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE CascadeSDK::sdk ${ARG_LINK_LIBRARIES})
  target_compile_features(${name} PRIVATE cxx_std_20)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "cascade-${name}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(NOT APPLE)
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  if(CASCADE_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY "${CASCADE_PLUGIN_OUTPUT_DIRECTORY}")
  endif()
endfunction()
