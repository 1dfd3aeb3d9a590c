# The layer order, checked over every #include in src/ and include/ (cmake -P; the ctest
# layers.no_file_includes_from_a_layer_above_its_own runs it on this tree).
#
#   cmake -DROOT=<source tree> -P cmake/check_layers.cmake
#
# Each area (include/peregrine/<area>/, src/<area>/) has a layer; a file may include from its own
# layer and those below, never from one above. Which areas of the same or a lower layer a library
# may use is what it links: CMake gives it only those include roots (CMakeLists.txt, "include
# roots"). The table is the one in docs/architecture.md, "Layers"; change both together.
#
# Exits non-zero, naming each file, include and both layers, when an include goes upward, when a
# file lies in an area the table does not know, or when a header of a library kept free of it
# (prometheus-cpp: metrics cells are exported by ops) is included below its floor.

cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P check_layers.cmake")
endif()
get_filename_component(ROOT "${ROOT}" ABSOLUTE)

# area -> layer
set(_layer_core 1)
set(_layer_ring 1)
set(_layer_agent 1)     # idle strategies, thread affinity
set(_layer_metrics 1)   # counter cells, no prometheus
set(_layer_proto 2)
set(_layer_sessions 3)  # the gateway's sans-I/O session state machines
set(_layer_client 3)
set(_layer_gateway 4)   # the Asio shell around sessions (today still in src/app)
set(_layer_ingress 5)
set(_layer_egress 5)
set(_layer_journal 5)
set(_layer_replay 6)
set(_layer_config 6)
set(_layer_ha 6)        # Lease leadership (and, next, replication) off the hot path
set(_layer_ops 7)
set(_layer_dropcopy 7)  # the drop copy to RabbitMQ: its own thread, off the hot path
set(_layer_app 8)
set(_layer_tools 8)
set(_layer_cli 8)       # the shipped binaries' command-line conventions (CLI11)

# Third-party headers that only a layer this high (or higher) may include: prefix -> layer.
set(_foreign_prefixes "prometheus/")
set(_foreign_floor_prometheus/ 7)

# The area of a path relative to ROOT, or "" when it is in neither include/peregrine/ nor src/.
function(area_of rel out)
  if(rel MATCHES "^include/peregrine/([^/]+)/")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  elseif(rel MATCHES "^src/([^/]+)/")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

file(GLOB_RECURSE _files RELATIVE "${ROOT}" LIST_DIRECTORIES false
     "${ROOT}/include/*.hpp" "${ROOT}/include/*.h")
file(GLOB_RECURSE _src_files RELATIVE "${ROOT}" LIST_DIRECTORIES false
     "${ROOT}/src/*.hpp" "${ROOT}/src/*.h" "${ROOT}/src/*.cpp" "${ROOT}/src/*.cc")
list(SORT _files)
list(SORT _src_files)
list(APPEND _files ${_src_files})

set(_problems "")
set(_checked 0)
foreach(_rel IN LISTS _files)
  area_of("${_rel}" _from)
  if(NOT DEFINED _layer_${_from})
    list(APPEND _problems "${_rel}: area '${_from}' has no layer (add it to cmake/check_layers.cmake and docs/architecture.md)")
    continue()
  endif()
  set(_from_layer ${_layer_${_from}})
  get_filename_component(_dir "${ROOT}/${_rel}" DIRECTORY)
  file(STRINGS "${ROOT}/${_rel}" _lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"][^>\"]+[>\"]")
  foreach(_line IN LISTS _lines)
    string(REGEX MATCH "[<\"]([^>\"]+)[>\"]" _m "${_line}")
    set(_inc "${CMAKE_MATCH_1}")
    math(EXPR _checked "${_checked} + 1")
    set(_to "")
    if(_inc MATCHES "^peregrine/([^/]+)/")
      set(_to "${CMAKE_MATCH_1}")
    elseif(EXISTS "${_dir}/${_inc}")
      file(RELATIVE_PATH _target_rel "${ROOT}" "${_dir}/${_inc}")
      area_of("${_target_rel}" _to)
    elseif(EXISTS "${ROOT}/src/${_inc}")
      area_of("src/${_inc}" _to)
    else()
      foreach(_prefix IN LISTS _foreign_prefixes)
        string(FIND "${_inc}" "${_prefix}" _at)
        if(_at EQUAL 0 AND _from_layer LESS _foreign_floor_${_prefix})
          list(APPEND _problems
               "${_rel}: ${_from} (layer ${_from_layer}) includes ${_inc}, which only layer ${_foreign_floor_${_prefix}} and above may use")
        endif()
      endforeach()
      continue()
    endif()
    if(_to STREQUAL "")
      continue()
    endif()
    if(NOT DEFINED _layer_${_to})
      list(APPEND _problems "${_rel}: includes ${_inc} from area '${_to}', which has no layer")
    elseif(_layer_${_to} GREATER _from_layer)
      list(APPEND _problems
           "${_rel}: ${_from} (layer ${_from_layer}) includes ${_inc} from ${_to} (layer ${_layer_${_to}})")
    endif()
  endforeach()
endforeach()

list(LENGTH _files _nfiles)
list(LENGTH _problems _nproblems)
if(_nproblems GREATER 0)
  list(JOIN _problems "\n  " _text)
  message(FATAL_ERROR "${_nproblems} include(s) against the layer order (docs/architecture.md, \"Layers\"):\n  ${_text}")
endif()
message(STATUS "layers: ${_nfiles} files, ${_checked} includes, none upward")
