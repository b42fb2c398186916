/* PLACEHOLDER so that libagent.a is not empty; removed by the real agent. */
int agent_placeholder(void);
int agent_placeholder(void) {
        return 0;
}
