# Installs headers, the shared library and a CMake package (banyan::banyan).
include(CMakePackageConfigHelpers)

install(TARGETS banyan EXPORT banyanTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/banyan
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/banyan/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/banyan)
foreach(host banyan-cli banyan-worker banyan-server)
  if(TARGET ${host})
    install(TARGETS ${host} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/banyan)
install(EXPORT banyanTargets NAMESPACE banyan:: DESTINATION ${config_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/banyanConfig.cmake.in
  ${PROJECT_BINARY_DIR}/banyanConfig.cmake INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/banyanConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/banyanConfig.cmake
  ${PROJECT_BINARY_DIR}/banyanConfigVersion.cmake DESTINATION ${config_dir})

# The build tree is a package too: find_package(banyan) with banyan_DIR set to it uses the
# library as built here, with the headers from the source tree.
export(EXPORT banyanTargets NAMESPACE banyan:: FILE ${PROJECT_BINARY_DIR}/banyanTargets.cmake)
