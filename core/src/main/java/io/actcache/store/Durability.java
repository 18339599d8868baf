package io.actcache.store;

/**
 * What a committed change survives.
 */
public enum Durability {
    /**
     * No forcing. Survives nothing beyond a clean close; a store left by a crashed process refuses to reopen
     * rather than silently serving possibly lost data. For scratch caches ({@link ActivationStore#inMemory()}).
     */
    NONE,
    /**
     * Data and journal are written to the kernel before a commit returns, never forced: survives a killed JVM,
     * not a power loss or kernel crash.
     */
    PROCESS,
    /**
     * Data, then the journal record, are forced to the device before a commit returns (and new files' directory
     * entries): survives power loss. The default for persistent stores.
     */
    FSYNC
}
