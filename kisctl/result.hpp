// Errors as values: Result<T> holds either a T or an Error whose message tells the user
// what went wrong and what to do. C++20 has no std::expected; this is the small part of it
// that kisctl needs.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace kis {

struct Error {
    // Complete sentence for the user, without the "kisctl: " prefix.
    std::string message;
    // errno (positive) when the module refused a request, 0 otherwise.
    int kernel_errno = 0;
    // The module's extended ACK message, if it sent one.
    std::string extack;
    // Offset in the request of the attribute the module blamed (NLMSGERR_ATTR_OFFS), or -1.
    long bad_attr_offset = -1;
};

inline Error make_error(std::string message) { return Error{std::move(message), 0, {}, -1}; }

template <typename T> class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(v_); }
    const T &value() const & { return std::get<0>(v_); }
    T &&value() && { return std::get<0>(std::move(v_)); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }

    const Error &error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error &error() const { return error_; }

  private:
    Error error_;
    bool ok_ = true;
};

} // namespace kis
