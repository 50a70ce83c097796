#pragma once
// What the tests of bad input share: the message an action throws, and the checks that it is one
// line naming what it must name (docs/conventions.md: errors are one line naming the file and field).
#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace nf_test {

// The message of the std::exception f throws, else `none`.
inline std::string error_of(const std::function<void()>& f, const std::string& none = "") {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return none;
}

// The message of the std::runtime_error f throws ("(no error)"; another exception type fails).
inline std::string runtime_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a std::runtime_error: " << e.what();
    return e.what();
  }
  return "(no error)";
}

// msg holds needle and is one line.
inline void expect_one_line(const std::string& msg, const std::string& needle) {
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

// msg is a one-line error (not empty: there was one) naming `name`.
inline void expect_one_line_naming(const std::string& msg, const std::string& name) {
  EXPECT_FALSE(msg.empty()) << "no error for " << name;
  expect_one_line(msg, name);
}

// f throws a std::runtime_error of one line holding every part (else the test fails).
inline void expect_one_line_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "no throw";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg << " lacks " << p;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

}  // namespace nf_test
