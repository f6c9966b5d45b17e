// A fresh database on the private MariaDB server that scripts/bench.sh starts.
#ifndef BANYAN_BENCH_MYSQL_SCRATCH_HPP
#define BANYAN_BENCH_MYSQL_SCRATCH_HPP

#include <mysql.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "bench_util.hpp"

namespace banyan {
namespace bench {

// Drops and creates database `name`; returns its Banyan URL.
inline std::string fresh_mysql_database(const std::string& name) {
  std::string base = env_or("BANYAN_TEST_MYSQL_URL", "");
  if (base.empty()) throw std::runtime_error("BANYAN_TEST_MYSQL_URL is not set");
  std::string server = base.substr(0, base.rfind('/'));
  MYSQL* m = mysql_init(nullptr);
  std::string rest = server.substr(std::strlen("mysql://"));
  std::string user = rest.substr(0, rest.find('@'));
  std::string hostport = rest.substr(rest.find('@') + 1);
  std::string host = hostport.substr(0, hostport.find(':'));
  unsigned port = static_cast<unsigned>(std::stoul(hostport.substr(hostport.find(':') + 1)));
  if (!mysql_real_connect(m, host.c_str(), user.c_str(), nullptr, nullptr, port, nullptr, 0))
    throw std::runtime_error(mysql_error(m));
  mysql_query(m, ("DROP DATABASE IF EXISTS " + name).c_str());
  mysql_query(m, ("CREATE DATABASE " + name).c_str());
  mysql_close(m);
  return server + "/" + name;
}

}  // namespace bench
}  // namespace banyan

#endif
