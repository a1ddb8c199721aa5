module github.com/maestroplusplus/maestro

go 1.26
