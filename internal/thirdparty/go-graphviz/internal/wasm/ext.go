package wasm

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/tetratelabs/wazero"
)

func DefaultSymList(ctx context.Context) ([]*SymList, error) {
	p, err := mod.NewPtr(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := mod.ExportedFunction("wasm_bridge_SymList_default").Call(ctx, p); err != nil {
		return nil, err
	}
	ptr, err := mod.readU32(p)
	if err != nil {
		return nil, err
	}
	slice, err := mod.toSlice(ctx, ptr)
	if err != nil {
		return nil, err
	}
	return newSymListSlice(slice), nil
}

func PluginAPIZero(ctx context.Context) (*PluginAPI, error) {
	p, err := mod.NewPtr(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := mod.ExportedFunction("wasm_bridge_PluginAPI_zero").Call(ctx, p); err != nil {
		return nil, err
	}
	ptr, err := mod.readU32(p)
	if err != nil {
		return nil, err
	}
	return newPluginAPI(ptr), nil
}

func PluginInstalledZero(ctx context.Context) (*PluginInstalled, error) {
	p, err := mod.NewPtr(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := mod.ExportedFunction("wasm_bridge_PluginInstalled_zero").Call(ctx, p); err != nil {
		return nil, err
	}
	ptr, err := mod.readU32(p)
	if err != nil {
		return nil, err
	}
	return newPluginInstalled(ptr), nil
}

func SymListZero(ctx context.Context) (*SymList, error) {
	p, err := mod.NewPtr(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := mod.ExportedFunction("wasm_bridge_SymList_zero").Call(ctx, p); err != nil {
		return nil, err
	}
	ptr, err := mod.readU32(p)
	if err != nil {
		return nil, err
	}
	return newSymList(ptr), nil
}

var (
	fsMu sync.Mutex
	// PATCH(maestro): the file system exists before the module does, so
	// SetWasmFileSystem works before Load.
	wasmFS = &WasmFileSystem{}
)

func SetWasmFileSystem(fs fs.FS) {
	fsMu.Lock()
	wasmFS.subFS = fs
	fsMu.Unlock()
}

func FileSystem() fs.FS {
	fsMu.Lock()
	defer fsMu.Unlock()
	return wasmFS
}

// PATCH(maestro): everything below is new. Upstream compiled and
// instantiated the WebAssembly module in this package's init, so every
// program that linked go-graphviz paid for it at start-up (40-80 ms with a
// warm cache, about 1 s without), trusted compiled code from a cache in the
// shared os.TempDir(), and panicked where the compiler could not run.

var (
	loadOnce  sync.Once
	loadErr   error
	loadHooks []func(context.Context) error
)

// OnLoad registers f to run once the module is instantiated, before Load
// returns: the other packages' former init work (cgraph's descriptors,
// gvc's engine lookups). Call it from an init function only.
func OnLoad(f func(context.Context) error) {
	loadHooks = append(loadHooks, f)
}

// Load compiles and instantiates the WebAssembly module on its first call
// and runs the OnLoad hooks; later calls return the first call's result.
// Every exported entry point that reaches the module calls it first. It
// tries wazero's compiler (with a private compilation cache, see
// compilationCache) and falls back to wazero's interpreter when the
// compiler fails, for example on a host that forbids executable memory.
func Load() error {
	loadOnce.Do(func() {
		ctx := context.Background()
		cfg := wazero.NewRuntimeConfig()
		if cache := compilationCache(); cache != nil {
			cfg = cfg.WithCompilationCache(cache)
		}
		if err := instantiate(ctx, cfg); err != nil {
			if err2 := instantiate(ctx, wazero.NewRuntimeConfigInterpreter()); err2 != nil {
				loadErr = fmt.Errorf("go-graphviz: load the Graphviz WebAssembly module: compiler: %v; interpreter: %w", err, err2)
				return
			}
		}
		for _, f := range loadHooks {
			if err := f(ctx); err != nil {
				loadErr = fmt.Errorf("go-graphviz: set up Graphviz: %w", err)
				return
			}
		}
	})
	return loadErr
}

// compilationCache is wazero's cache of compiled code in a directory only
// this user can write, os.UserCacheDir()/maestro/go-graphviz (mode 0700),
// or nil (no cache: compile on each first use) when there is no such
// directory or it is open to others. Upstream used os.TempDir()/go-graphviz,
// shared by every user of the machine, and loaded the native code it found.
func compilationCache() wazero.CompilationCache {
	base, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	dir := filepath.Join(base, "maestro", "go-graphviz")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil
	}
	if runtime.GOOS != "windows" {
		for _, d := range []string{filepath.Dir(dir), dir} {
			fi, err := os.Lstat(d)
			if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
				return nil
			}
		}
	}
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil
	}
	return cache
}
