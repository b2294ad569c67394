// text/spoken.hpp — written text in the spoken form SLURP transcribes and
// the assistant's models learnt from: numerals as number words.
//
// Why: many recognisers (and people typing) write "Wake me up at 5:30
// a.m." where SLURP's transcript says "wake me up at five thirty am". The
// NLU learnt the second form, and the ASR judge must not call the first a
// mishearing: it is spelling, not hearing. So the NLU reads its input
// through spoken_form(), and the judges canonicalise through it.
//
// What it rewrites, token by token (white-space separated, outer
// punctuation ignored), then normalises as normalize_sentence() does:
//   "10" -> "ten", "125" -> "one hundred twenty five", "1,000" -> "one thousand"
//   "1995" -> "nineteen ninety five", "2020" -> "twenty twenty" (years:
//       1100-1999 and 2010-2099 in pairs; "2005" -> "two thousand five")
//   "007" -> "zero zero seven" (a leading zero: read digit by digit)
//   "23rd" -> "twenty third", "1st" -> "first"
//   "5:30" -> "five thirty", "5:05" -> "five oh five", "5:00" -> "five"
//   "a.m." / "p.m." -> "am" / "pm"; "5pm", "5:30pm" -> "five pm", "five thirty pm"
//   "3.5" -> "three point five"; "20%" -> "twenty percent"
//   "$5" -> "five dollars", "$4.50" -> "four dollars fifty cents"
// Anything else is left as normalize_sentence() leaves it ("n9ne" stays,
// "mp3" stays). Text without digits and without "a.m."/"p.m." comes out
// exactly as normalize_sentence() makes it.
//
// Lifecycle: free functions, no state. Threading: pure, safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace cascade::language {

std::string spoken_form(std::string_view written);

// "twenty five", "one hundred five", "two thousand seventeen" (0 <= n < 10^9).
std::string cardinal_words(long n);
// "first", "twenty third", "one hundredth" (1 <= n < 10^9).
std::string ordinal_words(long n);

}  // namespace cascade::language
