// Package lvs models IPVS virtual services and their real servers, converges the kernel's
// IPVS table to a desired table with minimal netlink operations, prints the table in
// ipvsadm's formats and computes the director's kernel settings.
//
// The pieces, pure ones first:
//
//   - model.go: Service (Key, scheduler, flags, persistence, netmask), Destination,
//     Table and its Validate.
//   - diff.go: Diff / DiffOwned, the minimal Ops (add, edit in place, delete) from a
//     current table to a desired one; Op.String for logs ("edit real server
//     10.0.0.1:80 TCP -> 10.0.0.2:80: weight 1 -> 3").
//   - format.go: WriteList (`ipvsadm -Ln [--stats|--rate]`) and WriteSave
//     (`ipvsadm-save -n`), byte for byte.
//   - convert.go: conversion to and from github.com/moby/ipvs types.
//   - genl.go: the IPVS generic netlink codec (requests and dump replies).
//   - sysctl.go: DirectorSysctls, the settings each forwarding method needs, and
//     ApplySysctls over a SysctlWriter (ProcSys writes /proc/sys).
//   - reconcile.go: Reconciler (Reconcile, Run, RemoveOwned) over a Kernel, the two-method
//     interface to the IPVS table; package lvstest has an in-memory stand-in for tests.
//
// Side effects: netlink_linux.go is the Kernel lvsd uses (IPVS, OpenIPVS: batched
// requests, two sockets for reads); kernel_linux.go has CheckAvailable (fails clearly when
// the kernel has no IPVS, where moby/ipvs would silently do nothing), MobyIPVS (the same
// Kernel over moby/ipvs, kept to cross-check the codec) and the List/Save helpers.
//
// Ownership: a Reconciler only touches the services of the tables it was given; one that
// leaves the desired table is deleted, anything else in IPVS is left alone. A new
// Reconciler over matching kernel state performs no operation, so a restart keeps live
// connections. Tests against the real kernel are the `vmtest` build-tagged files, run in a
// VM by internal/vmtest (this machine's own kernel has no IPVS).
package lvs
