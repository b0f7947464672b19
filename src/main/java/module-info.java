/** vgrad: static-graph neural network training and serving on the JDK Vector API. No dependencies beyond the JDK. */
module dev.vgrad {
    requires jdk.incubator.vector;

    exports dev.vgrad.graph;
    exports dev.vgrad.autodiff;
    exports dev.vgrad.compile;
    exports dev.vgrad.kernel;
    exports dev.vgrad.runtime;
    exports dev.vgrad.train;
    exports dev.vgrad.train.demo;
    exports dev.vgrad.io;

}
