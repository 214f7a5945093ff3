/*
 * Fake libnvidia-ml.so.1 for tests without a GPU: the NVML entry points the exporter's NVML backend calls,
 * answered from the same GPU state file as the fake nvidia-smi (test/sim/gpu-state.ts documents the format),
 * with NVML's real return codes for the same faults. Written from NVIDIA's documented API (nvml.h): signatures,
 * struct layouts and return codes; no NVIDIA code is copied.
 *
 * Env: SENTINEL_FAKE_GPU_STATE = state file (unset or missing: one idle H100, as the fake nvidia-smi);
 *      SENTINEL_FAKE_NVML_PROCESS_STRIDE = 24 | 32: emit that nvmlProcessInfo_v3 layout whatever the driver
 *      version says (to prove a wrong stride is detected); by default the layout follows the driver version.
 * The state is read again on every call, so a test can change it (a GPU lost mid-run) while the library is loaded.
 * Build: cc -shared -fPIC -O2 -o libnvidia-ml.so.1 fake-nvml.c (test/helpers/build-fake-nvml.ts does it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define OK 0
#define ERR_UNINITIALIZED 1
#define ERR_INVALID_ARGUMENT 2
#define ERR_NOT_SUPPORTED 3
#define ERR_NOT_FOUND 6
#define ERR_INSUFFICIENT_SIZE 7
#define ERR_DRIVER_NOT_LOADED 9
#define ERR_LIBRARY_NOT_FOUND 12
#define ERR_GPU_IS_LOST 15
#define ERR_LIB_RM_VERSION_MISMATCH 18
#define ERR_ARGUMENT_VERSION_MISMATCH 25
#define ERR_UNKNOWN 999

#define MAX_GPUS 64
#define MAX_PROCS 1024
#define MAX_FAULTS 32

typedef struct {
    unsigned index;
    char uuid[96], bus[32], name[128], pstate[8];
    unsigned long long total, reserved, other; /* MiB */
    unsigned util, memUtil, temp, smClock;
    double power, powerLimit, enforced; /* W */
    unsigned long long ecc, reasons;
    int lost;
} Gpu;

typedef struct {
    char uuid[96], name[256];
    unsigned pid, smPct;
    unsigned long long usedMiB;
} Proc;

typedef struct {
    char target[16], kind[32], arg[128];
} Fault;

typedef struct {
    char driver[32];
    Gpu gpus[MAX_GPUS];
    int ngpus;
    Proc procs[MAX_PROCS];
    int nprocs;
    Fault faults[MAX_FAULTS];
    int nfaults;
} State;

static State st;
static int initCount;
static volatile long calls;

static void defaults(void) {
    memset(&st, 0, sizeof st);
    strcpy(st.driver, "580.159.04");
    Gpu *g = &st.gpus[0];
    st.ngpus = 1;
    strcpy(g->uuid, "GPU-f88d2996-314d-4abe-0c94-acc6aa417694");
    strcpy(g->bus, "00000000:00:06.0");
    strcpy(g->name, "NVIDIA H100 80GB HBM3");
    strcpy(g->pstate, "P0");
    g->total = 81559, g->reserved = 480, g->temp = 37, g->smClock = 345;
    g->power = 94.33, g->powerLimit = 700, g->enforced = 700, g->reasons = 1;
}

static void chomp(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = 0;
}

/* Returns 0 when the file is gone (a hang ends then, as the fake nvidia-smi's does). */
static int load(void) {
    const char *file = getenv("SENTINEL_FAKE_GPU_STATE");
    defaults();
    if (file == NULL || *file == 0) return 1;
    FILE *f = fopen(file, "r");
    if (f == NULL) return 0;
    st.ngpus = 0;
    static char line[8192];
    while (fgets(line, sizeof line, f) != NULL) {
        chomp(line);
        int n = 0;
        if (strncmp(line, "driver ", 7) == 0) {
            sscanf(line, "driver %31s", st.driver);
        } else if (strncmp(line, "gpu ", 4) == 0 && st.ngpus < MAX_GPUS) {
            Gpu *g = &st.gpus[st.ngpus];
            memset(g, 0, sizeof *g);
            if (sscanf(line, "gpu %u %95s %31s %llu %llu %llu %u %u %u %lf %lf %lf %u %7s %llu %llx %d %n", &g->index,
                       g->uuid, g->bus, &g->total, &g->reserved, &g->other, &g->util, &g->memUtil, &g->temp, &g->power,
                       &g->powerLimit, &g->enforced, &g->smClock, g->pstate, &g->ecc, &g->reasons, &g->lost, &n) >= 17 &&
                n > 0) {
                snprintf(g->name, sizeof g->name, "%s", line + n);
                st.ngpus++;
            }
        } else if (strncmp(line, "proc ", 5) == 0 && st.nprocs < MAX_PROCS) {
            Proc *p = &st.procs[st.nprocs];
            if (sscanf(line, "proc %95s %u %llu %n", p->uuid, &p->pid, &p->usedMiB, &n) >= 3 && n > 0) {
                snprintf(p->name, sizeof p->name, "%s", line + n);
                st.nprocs++;
            }
        } else if (strncmp(line, "proc_util ", 10) == 0) {
            char uuid[96];
            unsigned pid, pct;
            if (sscanf(line, "proc_util %95s %u %u", uuid, &pid, &pct) == 3)
                for (int i = 0; i < st.nprocs; i++)
                    if (st.procs[i].pid == pid && strcmp(st.procs[i].uuid, uuid) == 0) st.procs[i].smPct = pct;
        } else if (strncmp(line, "fault ", 6) == 0 && st.nfaults < MAX_FAULTS) {
            Fault *x = &st.faults[st.nfaults];
            memset(x, 0, sizeof *x);
            if (sscanf(line, "fault %15s %31s %n", x->target, x->kind, &n) >= 2) {
                if (n > 0) snprintf(x->arg, sizeof x->arg, "%s", line + n);
                st.nfaults++;
            }
        }
    }
    fclose(f);
    return 1;
}

static int applies(const Fault *f, const char *target) {
    return strcmp(f->target, "all") == 0 || strcmp(f->target, target) == 0;
}

static const Fault *findFault(const char *target, const char *kind) {
    for (int i = 0; i < st.nfaults; i++)
        if (applies(&st.faults[i], target) && strcmp(st.faults[i].kind, kind) == 0) return &st.faults[i];
    return NULL;
}

static void sleepMs(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long nowMs(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

/*
 * delay / hang / stuck, carried out where a collection starts (device count for "gpu", the process list for
 * "apps"). A hang is a driver call that does not return: it blocks until the fault is cleared, the state file
 * is deleted, or a safety limit passes, so a test never leaves a thread behind.
 */
static void timing(const char *target) {
    const Fault *d = findFault(target, "delay");
    if (d != NULL) sleepMs(atol(d->arg));
    const Fault *h = findFault(target, "hang");
    if (h == NULL) h = findFault(target, "nvml-hang");
    const Fault *s = findFault(target, "stuck");
    if (h == NULL && s == NULL) return;
    long limit = h != NULL ? 120000 : (atol(s->arg) > 0 ? atol(s->arg) : 20000);
    long end = nowMs() + limit;
    while (nowMs() < end) {
        sleepMs(20);
        if (!load()) return;
        if (findFault(target, "hang") == NULL && findFault(target, "nvml-hang") == NULL &&
            findFault(target, "stuck") == NULL)
            return;
    }
}

/*
 * The NVML code of the first fault that fails a call of this target, else OK. A lost GPU still counts and init
 * still works (nvidia-smi prints one "GPU is lost" line per GPU): `device` is set for per-device calls only.
 */
static int faultCodeFor(const char *target, int device) {
    for (int i = 0; i < st.nfaults; i++) {
        const Fault *f = &st.faults[i];
        if (!applies(f, target)) continue;
        if (!device && strcmp(f->kind, "gpu-lost") == 0) continue;
        if (strcmp(f->kind, "no-library") == 0) return ERR_LIBRARY_NOT_FOUND;
        if (strcmp(f->kind, "no-driver") == 0) return ERR_DRIVER_NOT_LOADED;
        if (strcmp(f->kind, "gpu-lost") == 0) return ERR_GPU_IS_LOST;
        if (strcmp(f->kind, "unknown-error") == 0) return ERR_UNKNOWN;
        if (strcmp(f->kind, "version-mismatch") == 0) return ERR_LIB_RM_VERSION_MISMATCH;
        if (strcmp(f->kind, "no-permission") == 0) return 4; /* NVML_ERROR_NO_PERMISSION */
        if (strcmp(f->kind, "exit") == 0 && atoi(f->arg) != 0) return atoi(f->arg);
    }
    return OK;
}

static int faultCode(const char *target) { return faultCodeFor(target, 1); }

/* Handles are index + 1 disguised as pointers (nvmlDevice_t is an opaque pointer). */
static int device(void *handle, Gpu **out, const char *target) {
    calls++;
    if (initCount == 0) return ERR_UNINITIALIZED;
    load();
    int code = faultCode(target);
    if (code != OK) return code;
    uintptr_t i = (uintptr_t)handle;
    if (i == 0 || i > (uintptr_t)st.ngpus) return ERR_INVALID_ARGUMENT;
    *out = &st.gpus[i - 1];
    return (*out)->lost ? ERR_GPU_IS_LOST : OK;
}

#define DEVICE(target)                                 \
    Gpu *g = NULL;                                     \
    int rc_ = device(handle, &g, target);              \
    if (rc_ != OK) return rc_;

static int copyString(char *dst, unsigned length, const char *src) {
    if (dst == NULL) return ERR_INVALID_ARGUMENT;
    if (strlen(src) + 1 > length) return ERR_INSUFFICIENT_SIZE;
    strcpy(dst, src);
    return OK;
}

/* Test hook, not NVML: how many device calls were made (proves no call is made while one hangs). */
long fake_nvml_calls(void) { return calls; }

int nvmlInit_v2(void) {
    calls++;
    load();
    int code = faultCodeFor("gpu", 0);
    if (code != OK) return code;
    initCount++;
    return OK;
}

int nvmlShutdown(void) {
    if (initCount == 0) return ERR_UNINITIALIZED;
    initCount--;
    return OK;
}

int nvmlSystemGetDriverVersion(char *version, unsigned length) {
    if (initCount == 0) return ERR_UNINITIALIZED;
    load();
    return copyString(version, length, st.driver);
}

int nvmlDeviceGetCount_v2(unsigned *count) {
    calls++;
    if (initCount == 0) return ERR_UNINITIALIZED;
    load();
    timing("gpu");
    int code = faultCodeFor("gpu", 0);
    if (code != OK) return code;
    *count = (unsigned)st.ngpus;
    return OK;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned index, void **handle) {
    calls++;
    if (initCount == 0) return ERR_UNINITIALIZED;
    load();
    int code = faultCode("gpu");
    if (code != OK) return code;
    if (index >= (unsigned)st.ngpus) return ERR_INVALID_ARGUMENT;
    if (st.gpus[index].lost) return ERR_GPU_IS_LOST;
    *handle = (void *)(uintptr_t)(index + 1);
    return OK;
}

int nvmlDeviceGetUUID(void *handle, char *uuid, unsigned length) {
    DEVICE("gpu") return copyString(uuid, length, g->uuid);
}

int nvmlDeviceGetName(void *handle, char *name, unsigned length) {
    DEVICE("gpu") return copyString(name, length, g->name);
}

int nvmlDeviceGetVbiosVersion(void *handle, char *version, unsigned length) {
    DEVICE("gpu") return copyString(version, length, "96.00.DA.00.0C");
}

int nvmlDeviceGetIndex(void *handle, unsigned *index) {
    DEVICE("gpu") *index = g->index;
    return OK;
}

/* nvmlPciInfo_t: char busIdLegacy[16]; unsigned domain, bus, device, pciDeviceId, pciSubSystemId; char busId[32]. */
typedef struct {
    char busIdLegacy[16];
    unsigned domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} PciInfo;

int nvmlDeviceGetPciInfo_v3(void *handle, PciInfo *pci) {
    DEVICE("gpu") memset(pci, 0, sizeof *pci);
    snprintf(pci->busId, sizeof pci->busId, "%s", g->bus);
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%s", g->bus + (strlen(g->bus) > 12 ? 4 : 0));
    sscanf(g->bus, "%x:%x:%x", &pci->domain, &pci->bus, &pci->device);
    pci->pciDeviceId = 0x233010DE, pci->pciSubSystemId = 0x16C110DE;
    return OK;
}

/* nvmlMemory_v2_t: unsigned version; unsigned long long total, reserved, free, used (used excludes reserved). */
typedef struct {
    unsigned version;
    unsigned long long total, reserved, free, used;
} Memory2;

static unsigned long long usedMiB(const Gpu *g) {
    unsigned long long used = g->other;
    for (int i = 0; i < st.nprocs; i++)
        if (strcmp(st.procs[i].uuid, g->uuid) == 0) used += st.procs[i].usedMiB;
    return used;
}

int nvmlDeviceGetMemoryInfo_v2(void *handle, Memory2 *m) {
    DEVICE("gpu") if (m->version != ((unsigned)sizeof(Memory2) | (2u << 24))) return ERR_ARGUMENT_VERSION_MISMATCH;
    const unsigned long long MiB = 1048576ULL, used = usedMiB(g);
    long long free = (long long)g->total - (long long)g->reserved - (long long)used;
    m->total = g->total * MiB, m->reserved = g->reserved * MiB, m->used = used * MiB;
    m->free = free > 0 ? (unsigned long long)free * MiB : 0;
    return OK;
}

int nvmlDeviceGetUtilizationRates(void *handle, unsigned *rates /* {gpu, memory} */) {
    DEVICE("gpu") rates[0] = g->util, rates[1] = g->memUtil;
    return OK;
}

int nvmlDeviceGetTemperature(void *handle, int sensor, unsigned *temp) {
    DEVICE("gpu") if (sensor != 0) return ERR_INVALID_ARGUMENT;
    *temp = g->temp;
    return OK;
}

static unsigned milliwatts(double w) { return (unsigned)(w * 1000 + 0.5); }

int nvmlDeviceGetPowerUsage(void *handle, unsigned *mw) {
    DEVICE("gpu") *mw = milliwatts(g->power);
    return OK;
}

int nvmlDeviceGetPowerManagementLimit(void *handle, unsigned *mw) {
    DEVICE("gpu") *mw = milliwatts(g->powerLimit);
    return OK;
}

int nvmlDeviceGetEnforcedPowerLimit(void *handle, unsigned *mw) {
    DEVICE("gpu") *mw = milliwatts(g->enforced);
    return OK;
}

/* nvmlClockType_t: GRAPHICS 0, SM 1, MEM 2, VIDEO 3. Values as the fake nvidia-smi prints them. */
int nvmlDeviceGetClockInfo(void *handle, int type, unsigned *mhz) {
    DEVICE("gpu") switch (type) {
    case 0:
    case 1: *mhz = g->smClock; return OK;
    case 2: *mhz = 2619; return OK;
    case 3: *mhz = 1545; return OK;
    default: return ERR_INVALID_ARGUMENT;
    }
}

int nvmlDeviceGetMaxClockInfo(void *handle, int type, unsigned *mhz) {
    DEVICE("gpu") switch (type) {
    case 0:
    case 1: *mhz = 1980; return OK;
    case 2: *mhz = 2619; return OK;
    default: return ERR_NOT_SUPPORTED;
    }
}

int nvmlDeviceGetPerformanceState(void *handle, int *pstate) {
    DEVICE("gpu") int p = 32; /* NVML_PSTATE_UNKNOWN */
    sscanf(g->pstate, "P%d", &p);
    *pstate = p;
    return OK;
}

/* Data-centre boards have no fan: nvidia-smi prints [N/A]. */
int nvmlDeviceGetFanSpeed(void *handle, unsigned *speed) {
    DEVICE("gpu")(void) speed;
    return ERR_NOT_SUPPORTED;
}

int nvmlDeviceGetComputeMode(void *handle, int *mode) {
    DEVICE("gpu") * mode = 0; /* NVML_COMPUTEMODE_DEFAULT */
    return OK;
}

int nvmlDeviceGetPersistenceMode(void *handle, int *mode) {
    DEVICE("gpu") * mode = 1; /* NVML_FEATURE_ENABLED */
    return OK;
}

int nvmlDeviceGetMigMode(void *handle, unsigned *current, unsigned *pending) {
    DEVICE("gpu") * current = 0, *pending = 0;
    return OK;
}

/* nvmlGpuVirtualizationMode_t: NONE 0, PASSTHROUGH 1, VGPU 2, HOST_VGPU 3, HOST_VSGA 4. */
int nvmlDeviceGetVirtualizationMode(void *handle, int *mode) {
    DEVICE("gpu") * mode = 0;
    return OK;
}

int nvmlDeviceGetCurrentClocksEventReasons(void *handle, unsigned long long *reasons) {
    DEVICE("gpu") * reasons = g->reasons;
    return OK;
}

/* errorType: CORRECTED 0, UNCORRECTED 1; counterType: VOLATILE 0, AGGREGATE 1. */
int nvmlDeviceGetTotalEccErrors(void *handle, int errorType, int counterType, unsigned long long *count) {
    DEVICE("gpu") if (counterType < 0 || counterType > 1) return ERR_INVALID_ARGUMENT;
    *count = errorType == 1 ? g->ecc : 0;
    return OK;
}

/*
 * nvmlProcessInfo_v3 as the driver writes it: 24 bytes {u32 pid; u64 usedGpuMemory; u32 gpuInstanceId; u32
 * computeInstanceId}, or 32 bytes on early R535 drivers, which appended u64 usedGpuCcProtectedMemory.
 */
static int processStride(void) {
    const char *forced = getenv("SENTINEL_FAKE_NVML_PROCESS_STRIDE");
    if (forced != NULL && (atoi(forced) == 24 || atoi(forced) == 32)) return atoi(forced);
    int major = 0, minor = 0;
    sscanf(st.driver, "%d.%d", &major, &minor);
    return major == 535 && minor < 98 ? 32 : 24;
}

int nvmlDeviceGetComputeRunningProcesses_v3(void *handle, unsigned *count, void *infos) {
    DEVICE("gpu") timing("apps");
    int code = faultCode("apps");
    if (code != OK) return code;
    unsigned n = 0;
    for (int i = 0; i < st.nprocs; i++) n += strcmp(st.procs[i].uuid, g->uuid) == 0;
    if (infos == NULL || *count < n) {
        *count = n;
        return n == 0 ? OK : ERR_INSUFFICIENT_SIZE;
    }
    int stride = processStride();
    unsigned k = 0;
    for (int i = 0; i < st.nprocs; i++) {
        if (strcmp(st.procs[i].uuid, g->uuid) != 0) continue;
        unsigned char *e = (unsigned char *)infos + (size_t)k++ * stride;
        unsigned long long mem = st.procs[i].usedMiB * 1048576ULL, none = 0;
        unsigned pid = st.procs[i].pid, noInstance = 0xFFFFFFFFu;
        memset(e, 0, stride);
        memcpy(e, &pid, 4);
        memcpy(e + 8, &mem, 8);
        memcpy(e + 16, &noInstance, 4);
        memcpy(e + 20, &noInstance, 4);
        if (stride == 32) memcpy(e + 24, &none, 8);
    }
    *count = n;
    return OK;
}

int nvmlSystemGetProcessName(unsigned pid, char *name, unsigned length) {
    calls++;
    if (initCount == 0) return ERR_UNINITIALIZED;
    load();
    for (int i = 0; i < st.nprocs; i++)
        if (st.procs[i].pid == pid) return copyString(name, length, st.procs[i].name);
    return ERR_NOT_FOUND;
}

/*
 * nvmlProcessUtilizationSample_t: {u32 pid; u64 timeStamp; u32 smUtil, memUtil, encUtil, decUtil} (32 bytes).
 * One sample per process the state calls busy (proc_util); none busy answers NOT_FOUND, as NVML does when no process
 * ran since lastSeen. memUtil: the GPU's memory utilization shared out by SM share.
 */
int nvmlDeviceGetProcessUtilization(void *handle, void *samples, unsigned *count, unsigned long long lastSeen) {
    DEVICE("apps")(void) lastSeen;
    unsigned n = 0, smSum = 0;
    for (int i = 0; i < st.nprocs; i++)
        if (strcmp(st.procs[i].uuid, g->uuid) == 0 && st.procs[i].smPct > 0) n++, smSum += st.procs[i].smPct;
    if (n == 0) return ERR_NOT_FOUND;
    if (samples == NULL || *count < n) {
        *count = n;
        return ERR_INSUFFICIENT_SIZE;
    }
    unsigned k = 0;
    unsigned long long ts = (unsigned long long)nowMs() * 1000ULL;
    for (int i = 0; i < st.nprocs; i++) {
        if (strcmp(st.procs[i].uuid, g->uuid) != 0 || st.procs[i].smPct == 0) continue;
        unsigned char *e = (unsigned char *)samples + (size_t)k++ * 32;
        unsigned v[4] = {st.procs[i].smPct, g->memUtil * st.procs[i].smPct / smSum, 0, 0};
        memset(e, 0, 32);
        memcpy(e, &st.procs[i].pid, 4);
        memcpy(e + 8, &ts, 8);
        memcpy(e + 16, v, 16);
    }
    *count = n;
    return OK;
}
