// The one Boost.Test module of the KIS unit tests; the test cases live in the other files.
#define BOOST_TEST_MODULE kis_unit
#include <boost/test/unit_test.hpp>
