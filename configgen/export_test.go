package configgen

// MatchKey exposes matchKey to the external tests.
var MatchKey = matchKey
